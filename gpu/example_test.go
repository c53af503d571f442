package gpu_test

import (
	"errors"
	"fmt"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/gpu"
)

// Open a GPU backend, multiply two matrices on it and read the result back.
// (No Output comment: the adapter differs from machine to machine.)
func ExampleOpen() {
	b, err := gpu.Open(gpu.Options{Device: "any"})
	if errors.Is(err, gpu.ErrNoAdapter) {
		fmt.Println("no WebGPU adapter:", gpu.InstallHint)
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	fmt.Println(b.Info())

	a, _ := b.New(2, 3, backend.Float)
	w, _ := b.New(3, 1, backend.Float)
	c, _ := b.New(2, 1, backend.Float)
	_ = b.WriteFloats(a, []float64{1, 2, 3, 4, 5, 6})
	_ = b.WriteFloats(w, []float64{1, 1, 1})
	b.MatMul(c, a, w, false, false) // recorded, not yet run
	got, err := b.ReadFloats(c)     // submits, waits, reads back
	fmt.Println(got, err)
}

// Choose an adapter from a list without opening it.
func ExampleSelect() {
	list := []gpu.Adapter{
		{Index: 0, Name: "llvmpipe", API: "vulkan", Type: "cpu"},
		{Index: 1, Name: "NVIDIA H100", API: "vulkan", Type: "discrete"},
	}
	a, _ := gpu.Select(list, "gpu")
	fmt.Println(a.Name)
	_, err := gpu.Select(list[:1], "gpu")
	fmt.Println(errors.Is(err, gpu.ErrNoHardwareGPU))
	// Output:
	// NVIDIA H100
	// true
}

// Measure the GPU time of some work with timestamp queries. Adapters without
// them (GL ones, for instance) open all the same and report the time
// unavailable.
func ExampleBackend_KernelTime() {
	b, err := gpu.Open(gpu.Options{Device: "any", Timestamps: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	a, _ := b.New(256, 256, backend.Float)
	c, _ := b.New(256, 256, backend.Float)
	b.Fill(a, 1)
	b.ResetKernelTime()
	for range 10 {
		b.MatMul(c, a, a, false, false)
	}
	if err := b.Sync(); err != nil { // Sync reads the timestamps back
		fmt.Println(err)
		return
	}
	if d, ok := b.KernelTime(); ok {
		fmt.Println("GPU time of 10 products:", d)
	} else {
		fmt.Println("no timestamp queries on", b.Adapter().Name)
	}
}
