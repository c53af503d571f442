package backend_test

import (
	"fmt"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
)

// Pack lays out a 784×128 weight, its 128 biases and a 128×10 weight in one
// tensor, each at a multiple of SliceAlign; Slice then makes the three
// tensors over it, and one operation (here SGD) updates all of them.
func ExamplePack() {
	offsets, total := backend.Pack(784*128, 128, 128*10)
	fmt.Println(offsets, total)

	var b backend.Backend = cpuref.New()
	params, _ := b.New(total, 1, backend.Float)
	grads, _ := b.New(total, 1, backend.Float)
	w1 := b.Slice(params, offsets[0], 784, 128)
	bias := b.Slice(params, offsets[1], 1, 128)
	gBias := b.Slice(grads, offsets[1], 1, 128)
	b.Fill(gBias, 1)
	lr, _ := backend.NewHP(b, 1, backend.SGDHP(0.5)) // [lr], on the device
	b.SGD(params, grads, lr, nil)                    // every parameter at once
	v, _ := b.ReadFloats(bias)
	fmt.Println(w1.Rows(), w1.Cols(), v[0], v[127])
	// Output:
	// [0 100352 100480] 101760
	// 784 128 -0.5 -0.5
}
