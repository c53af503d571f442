package nn_test

import (
	"context"
	"fmt"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/nn"
)

// Train a small classifier on the CPU reference: logical AND of two inputs.
func ExampleTrain() {
	b := cpuref.New()
	defer b.Close()
	set := &nn.Set{Name: "and", Rows: 4, Cols: 2, Classes: 2,
		Features: []float64{0, 0, 0, 1, 1, 0, 1, 1},
		Labels:   []float64{0, 0, 0, 1}}
	spec := nn.Spec{Inputs: 2, Hidden: []int{4}, Outputs: 1, Activation: backend.Tanh, Head: nn.BinaryHead}
	m, err := nn.NewModel(b, spec, 1)
	if err != nil {
		panic(err)
	}
	defer m.Free()
	hist, err := nn.Train(context.Background(), b, m, set,
		nn.Config{Epochs: 200, LR: 0.1, Optimizer: nn.Adam, Seed: 1}, nn.Hooks{})
	if err != nil {
		panic(err)
	}
	last := hist.Last()
	fmt.Printf("%v: epoch %d, accuracy %.2f, loss below 0.05: %v\n", spec, last.Epoch, last.Accuracy, last.Loss < 0.05)
	p, _ := m.Predict(set, 0)
	fmt.Println("classes:", p.Classes)
	// Output:
	// 2-4-1 tanh binary: epoch 200, accuracy 1.00, loss below 0.05: true
	// classes: [0 0 0 1]
}

// Early stopping: hold a fifth of the training set out, stop once the
// validation loss has not improved for 3 epochs, and keep the best epoch's
// weights.
func ExampleTrain_earlyStopping() {
	b := cpuref.New()
	defer b.Close()
	set := &nn.Set{Name: "noisy and", Rows: 40, Cols: 2, Classes: 2}
	for i := range 40 {
		x, y := float64(i%2), float64(i/2%2)
		label := x * y
		if i%9 == 0 {
			label = 1 - label // label noise to overfit
		}
		set.Features = append(set.Features, x, y)
		set.Labels = append(set.Labels, label)
	}
	spec := nn.Spec{Inputs: 2, Hidden: []int{8}, Outputs: 1, Activation: backend.Tanh, Head: nn.BinaryHead}
	m, err := nn.NewModel(b, spec, 1)
	if err != nil {
		panic(err)
	}
	defer m.Free()
	hist, err := nn.Train(context.Background(), b, m, set,
		nn.Config{Epochs: 500, Batch: 8, LR: 0.05, Optimizer: nn.Adam, Seed: 1, ValFraction: 0.2, ValSeed: 1, Patience: 3}, nn.Hooks{})
	if err != nil {
		panic(err)
	}
	fmt.Println("trained on", hist.TrainRows, "rows, validated on", hist.ValRows)
	fmt.Printf("stopped early: %v, after epoch %d; the model holds epoch %d's weights\n",
		hist.StoppedEarly, len(hist.Epochs), hist.BestEpoch)
	// Output:
	// trained on 32 rows, validated on 8
	// stopped early: true, after epoch 8; the model holds epoch 5's weights
}

// The training step on its own, as gputrain bench times it: a Trainer walks
// an order of rows a minibatch a step, with nothing read back until Sums.
func ExampleTrainer() {
	b := cpuref.New()
	defer b.Close()
	set := &nn.Set{Name: "and", Rows: 4, Cols: 2, Classes: 2,
		Features: []float64{0, 0, 0, 1, 1, 0, 1, 1},
		Labels:   []float64{0, 0, 0, 1}}
	spec := nn.Spec{Inputs: 2, Hidden: []int{4}, Outputs: 1, Activation: backend.Tanh, Head: nn.BinaryHead}
	m, err := nn.NewModel(b, spec, 1)
	if err != nil {
		panic(err)
	}
	defer m.Free()
	tr, err := nn.NewTrainer(m, set, nn.Config{Batch: 2, LR: 0.1, Optimizer: nn.Adam}, 0)
	if err != nil {
		panic(err)
	}
	defer tr.Free()
	if err := tr.SetOrder([]uint32{0, 1, 2, 3}); err != nil {
		panic(err)
	}
	fmt.Println("batch", tr.Batch(), "steps per order", tr.StepsPerOrder())
	for range 200 {
		tr.Step()
	}
	tr.ResetSums()
	for range tr.StepsPerOrder() { // one more pass, its loss and count summed
		tr.Step()
	}
	loss, count, err := tr.Sums()
	if err != nil {
		panic(err)
	}
	fmt.Printf("last pass: mean loss below 0.05: %v, %v of 4 right\n", loss/4 < 0.05, count)
	// Output:
	// batch 2 steps per order 2
	// last pass: mean loss below 0.05: true, 4 of 4 right
}
