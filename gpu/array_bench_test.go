package gpu_test

import (
	"fmt"
	"testing"

	"github.com/gputrain/gputrain/backend"
)

// BenchmarkArrayStepOps times each of the ten dispatches of a training step
// of 64-128-64-10 (sigmoid, softmax, SGD) at batch 32 on model arrays of
// N = 1, 4 and 16 members (the workload of issue 20), one operation at a
// time: kernel-us/op is the GPU time of one dispatch (timestamp queries),
// kernel-us/model that divided by N, and cpu-us/model the process's CPU
// time (user and system, every thread: on a software adapter the
// adapter's own threads) per dispatch divided by N, which other work on a
// shared machine inflates less than it does the kernel's wall time. An operation whose kernel-us/model
// grows with N is where an array's step loses its scaling.
//
//	go test -run '^$' -bench ArrayStepOps -benchtime 20x ./gpu
func BenchmarkArrayStepOps(b *testing.B) {
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("models=%d", n), func(b *testing.B) { benchArrayStepOps(b, n) })
	}
}

func benchArrayStepOps(b *testing.B, n int) {
	be := timed(b)
	const batch, rows = 32, 1438
	sizes := []int{64, 128, 64, 10}
	newArr := func(models, r, c int, dt backend.DType) backend.Tensor {
		t, err := be.NewArray(models, r, c, dt)
		if err != nil {
			b.Fatal(err)
		}
		if dt == backend.Float {
			v := make([]float64, models*r*c)
			for i := range v {
				v[i] = float64(i%7)/7 - 0.4
			}
			if err := be.WriteFloats(t, v); err != nil {
				b.Fatal(err)
			}
		}
		return t
	}
	src := newArr(1, rows, 64, backend.Float)
	labels := newArr(1, rows, 1, backend.Float)
	idx := newArr(n, 1, rows, backend.Index)
	order := make([]uint32, n*rows)
	for i := range order {
		order[i] = uint32((i * 7919) % rows)
	}
	if err := be.WriteIndices(idx, order); err != nil {
		b.Fatal(err)
	}
	var counts []int
	for i := 0; i+1 < len(sizes); i++ {
		counts = append(counts, sizes[i]*sizes[i+1], sizes[i+1])
	}
	offsets, total := backend.Pack(counts...)
	params := newArr(n, total, 1, backend.Float)
	grads := newArr(n, total, 1, backend.Float)
	hp := newArr(n, 1, backend.SGDHPCols, backend.Float)
	var w, bias, gw, gb, ys, ds []backend.Tensor
	for i := 0; i+1 < len(sizes); i++ {
		w = append(w, be.Slice(params, offsets[2*i], sizes[i], sizes[i+1]))
		bias = append(bias, be.Slice(params, offsets[2*i+1], 1, sizes[i+1]))
		gw = append(gw, be.Slice(grads, offsets[2*i], sizes[i], sizes[i+1]))
		gb = append(gb, be.Slice(grads, offsets[2*i+1], 1, sizes[i+1]))
		ys = append(ys, newArr(n, batch, sizes[i+1], backend.Float))
		ds = append(ds, newArr(n, batch, sizes[i+1], backend.Float))
	}
	x := newArr(n, batch, 64, backend.Float)
	loss := newArr(n, 1, 1, backend.Float)
	count := newArr(n, 1, 1, backend.Float)
	ops := []struct {
		name string
		f    func()
	}{
		{"0-gather-matmul-bias-act-64x128", func() {
			be.GatherMatMulBiasActivate(x, src, idx, 64, 1, ys[0], w[0], bias[0], backend.Sigmoid, backend.Dropout{})
		}},
		{"1-matmul-bias-act-128x64", func() { be.MatMulBiasActivate(ys[1], ys[0], w[1], bias[1], backend.Sigmoid, backend.Dropout{}) }},
		{"2-matmul-bias-act-64x10", func() { be.MatMulBiasActivate(ys[2], ys[1], w[2], bias[2], backend.Identity, backend.Dropout{}) }},
		{"3-loss-grad-count", func() {
			be.LossGradCount(loss, count, ds[2], ys[2], labels, idx, 64, backend.SoftmaxCrossEntropy, nil)
		}},
		{"4-matmul-column-sum-64x10", func() { be.MatMulColumnSum(gw[2], gb[2], ys[1], ds[2]) }},
		{"5-matmul-act-grad-10x64", func() { be.MatMulActivationGrad(ds[1], ds[2], w[2], ys[1], true, backend.Sigmoid, backend.Dropout{}) }},
		{"6-matmul-column-sum-128x64", func() { be.MatMulColumnSum(gw[1], gb[1], ys[0], ds[1]) }},
		{"7-matmul-act-grad-64x128", func() { be.MatMulActivationGrad(ds[0], ds[1], w[1], ys[0], true, backend.Sigmoid, backend.Dropout{}) }},
		{"8-matmul-column-sum-64x128", func() { be.MatMulColumnSum(gw[0], gb[0], x, ds[0]) }},
		{"9-sgd", func() { be.SGD(params, grads, hp, nil) }},
		// Not a step's: one workgroup that stores one float a model, the
		// fixed cost of a dispatch.
		{"ref-fill-1x1", func() { be.Fill(loss, 0) }},
	}
	for _, op := range ops {
		b.Run(op.name, func(b *testing.B) {
			op.f()
			if err := be.Sync(); err != nil {
				b.Fatal(err)
			}
			be.ResetKernelTime()
			cpu0 := cpuTime()
			for range b.N {
				op.f()
			}
			if err := be.Sync(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N*n), "cpu-us/model")
			if d, ok := be.KernelTime(); ok {
				us := float64(d.Microseconds()) / float64(b.N)
				b.ReportMetric(us, "kernel-us/op")
				b.ReportMetric(us/float64(n), "kernel-us/model")
			}
		})
	}
}
