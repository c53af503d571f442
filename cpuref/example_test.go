package cpuref_test

import (
	"fmt"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
)

// A forward pass of one sigmoid layer and its loss, through the
// backend.Backend interface that training code uses.
func Example() {
	var b backend.Backend = cpuref.New()
	defer b.Close()

	x, _ := b.New(2, 3, backend.Float) // a batch of two inputs
	w, _ := b.New(3, 1, backend.Float)
	bias, _ := b.New(1, 1, backend.Float)
	y, _ := b.New(2, 1, backend.Float)
	_ = b.WriteFloats(x, []float64{1, 2, 3, -1, 0, 1})
	_ = b.WriteFloats(w, []float64{0.5, -0.25, 0.1})
	_ = b.WriteFloats(bias, []float64{0.2})

	b.MatMul(y, x, w, false, false)           // y = x·w
	b.BiasActivate(y, bias, backend.Identity) // logits
	target, _ := b.New(2, 1, backend.Float)
	_ = b.WriteFloats(target, []float64{1, 0})
	loss, _ := b.New(1, 1, backend.Float)
	grad, _ := b.New(2, 1, backend.Float)
	b.LossGrad(loss, grad, y, target, backend.BinaryCrossEntropy)

	logits, _ := b.ReadFloats(y)
	sum, _ := b.ReadFloats(loss)
	fmt.Println(b.Info().Precision)
	fmt.Printf("logits %.2f, mean loss %.4f\n", logits, sum[0]/2)
	// Output:
	// float64
	// logits [0.50 -0.20], mean loss 0.5361
}
