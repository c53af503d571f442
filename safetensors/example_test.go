package safetensors_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gputrain/gputrain/safetensors"
)

func ExampleWrite() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")

	tensors := []safetensors.Tensor{
		// DType left empty: stored as F32, each value rounded to float32.
		{Name: "fc1.weight", Shape: []int{2, 3}, Data: []float64{1, 2, 3, 4, 5, 6}},
		// F64: stored exactly.
		{Name: "fc1.bias", Shape: []int{2}, DType: safetensors.F64, Data: []float64{0.1, -0.5}},
	}
	if err := safetensors.Write(path, tensors, map[string]string{"arch": "3-2"}); err != nil {
		panic(err)
	}
	f, err := safetensors.Read(path)
	if err != nil {
		panic(err)
	}
	for _, t := range f.Tensors {
		fmt.Println(t, t.DType, t.Data)
	}
	fmt.Println(f.Metadata["arch"])
	// Output:
	// fc1.bias [2] F64 [0.1 -0.5]
	// fc1.weight [2 3] F32 [1 2 3 4 5 6]
	// 3-2
}
