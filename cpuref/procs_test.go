package cpuref_test

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/bench/benchstep"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/nn"
	"github.com/stretchr/testify/require"
)

// TestProcsInvariance trains a few steps of networks of odd shapes with
// GOMAXPROCS 1, 2 and 3 and requires the same bits from each: the final
// step's loss and accuracy, which depend on every parameter. It runs with
// the measured grains (only the large products split: batch 1023 of a
// 784-input layer is past gemm's threshold) and with grains of one element,
// which split every elementwise operation of the step, model arrays
// included.
func TestProcsInvariance(t *testing.T) {
	tests := []struct {
		name   string
		inputs int
		hidden []int
		out    int
		act    backend.Activation
		opt    nn.Optimizer
		batch  int
		models int
	}{
		{"784-129-63-10_sigmoid_sgd_1023", 784, []int{129, 63}, 10, backend.Sigmoid, nn.SGD, 1023, 1},
		{"97-33-1_relu_momentum_37", 97, []int{33}, 1, backend.ReLU, nn.Momentum, 37, 1},
		{"61-17-5-3_tanh_adam_301", 61, []int{17, 5}, 3, backend.Tanh, nn.Adam, 301, 1},
		{"50-19-7_sigmoid_sgd_131_array3", 50, []int{19}, 7, backend.Sigmoid, nn.SGD, 131, 3},
		// Wide inputs, cut by owner (owned.go) with two and three cores.
		{"800-33-10_relu_adam_64", 800, []int{33}, 10, backend.ReLU, nn.Adam, 64, 1},
		{"1200-17-3_tanh_momentum_64", 1200, []int{17}, 3, backend.Tanh, nn.Momentum, 64, 1},
		{"784-800-10_sigmoid_sgd_33", 784, []int{800}, 10, backend.Sigmoid, nn.SGD, 33, 1},
	}
	for _, tc := range tests {
		for _, grain := range []int{0, 1} {
			t.Run(fmt.Sprintf("%s/grain=%d", tc.name, grain), func(t *testing.T) {
				if tc.batch > 1000 && testing.Short() && grain == 1 {
					t.Skip("the large case with every operation split runs without -short")
				}
				if grain > 0 {
					defer cpuref.SetGrains(grain)()
				}
				head := nn.SoftmaxHead
				if tc.out == 1 {
					head = nn.BinaryHead
				}
				spec := benchstep.Spec{Model: nn.Spec{Inputs: tc.inputs, Hidden: tc.hidden, Outputs: tc.out,
					Activation: tc.act, Head: head}, Optimizer: tc.opt, LR: 0.05, Models: tc.models}
				d := benchstep.RandomData(2*tc.batch+7, tc.inputs, max(tc.out, 2), 5)
				var want [2]float64
				for i, procs := range []int{1, 2, 3} {
					old := runtime.GOMAXPROCS(procs)
					be := cpuref.New()
					w, err := benchstep.New(be, spec, d, tc.batch, 1)
					require.NoError(t, err)
					require.NoError(t, w.Run(3))
					if cut := tc.models == 1 && cpuref.CutByOwner(tc.batch, tc.hidden[0], tc.inputs); cut != (cpuref.OwnedLayers(be) > 0) {
						t.Errorf("GOMAXPROCS=%d: %d layers cut by owner, want cut %v", procs, cpuref.OwnedLayers(be), cut)
					}
					loss, acc, err := w.Final()
					w.Free()
					runtime.GOMAXPROCS(old)
					require.NoError(t, err)
					require.False(t, math.IsNaN(loss), "loss is NaN")
					if i == 0 {
						want = [2]float64{loss, acc}
						continue
					}
					if got := [2]float64{loss, acc}; got != want {
						t.Fatalf("GOMAXPROCS=%d: loss, accuracy = %v, with 1: %v (bits %x, %x)",
							procs, got, want, math.Float64bits(loss), math.Float64bits(want[0]))
					}
				}
			})
		}
	}
}

// TestOwnedForgotten: freeing the storage of a gradient cut by owner drops
// its record, so a Backend that trains model after model holds none of
// the freed ones.
func TestOwnedForgotten(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	be := cpuref.New()
	defer be.Close()
	spec := benchstep.Spec{Model: nn.Spec{Inputs: 800, Hidden: []int{16}, Outputs: 10, Activation: backend.Sigmoid,
		Head: nn.SoftmaxHead}, Optimizer: nn.SGD, LR: 0.05, Models: 1}
	d := benchstep.RandomData(200, 800, 10, 5)
	for range 3 {
		w, err := benchstep.New(be, spec, d, 100, 1)
		require.NoError(t, err)
		require.NoError(t, w.Run(2))
		require.Equal(t, 1, cpuref.OwnedLayers(be), "while the model is alive")
		w.Free()
		require.Equal(t, 0, cpuref.OwnedLayers(be), "after it is freed")
	}
}
