package docs_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/device"
	"github.com/gputrain/gputrain/gpu"
	"github.com/gputrain/gputrain/nn"
)

// The README's "Use it from Go": logical AND on the CPU backend.
func Example_readme() {
	b := cpuref.New()
	defer b.Close()
	set := &nn.Set{Name: "and", Rows: 4, Cols: 2, Classes: 2,
		Features: []float64{0, 0, 0, 1, 1, 0, 1, 1}, // row-major, Rows×Cols
		Labels:   []float64{0, 0, 0, 1}}
	spec := nn.Spec{Inputs: 2, Hidden: []int{4}, Outputs: 1, Activation: backend.Tanh, Head: nn.BinaryHead}
	m, err := nn.NewModel(b, spec, 1)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Free()
	hist, err := nn.Train(context.Background(), b, m, set,
		nn.Config{Epochs: 200, LR: 0.1, Optimizer: nn.Adam, Seed: 1}, nn.Hooks{})
	if err != nil {
		log.Fatal(err)
	}
	p, _ := m.PredictRows([][]float64{{0, 1}, {1, 1}}, 0)
	fmt.Println(hist.Last().Accuracy, p.Classes) // 1 [0 1]
	// Output:
	// 1 [0 1]
}

// docs/library.md's "Train, predict, save": the built-in digits on the
// device --device auto picks, saved and loaded back.
func Example_library() {
	b, why, err := device.Open("auto", gpu.Options{}) // a hardware GPU, else the CPU backend
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	log.Println(why)

	split, err := data.Digits() // 1438 training and 359 test images, 8×8, ten classes
	if err != nil {
		log.Fatal(err)
	}
	spec := nn.Spec{Inputs: split.Train.Cols, Hidden: []int{64}, Outputs: split.Train.Classes,
		Activation: backend.ReLU, Head: nn.SoftmaxHead}
	m, err := nn.NewModel(b, spec, 1) // Xavier-uniform weights from seed 1
	if err != nil {
		log.Fatal(err)
	}
	defer m.Free()
	_, err = nn.Train(context.Background(), b, m, split.Train, nn.Config{
		Epochs: 10, Batch: 32, LR: 0.01, Optimizer: nn.Adam, Seed: 1,
		ValFraction: 0.1, ValSeed: 1, Patience: 3, // optional: validation and early stopping
	}, nn.Hooks{Epoch: func(e nn.EpochStats) { log.Println(e.Epoch, e.Loss, e.ValLoss) }})
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "digits")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")
	if err := m.Save(path); err != nil {
		log.Fatal(err)
	}
	m2, err := nn.Load(path, b)
	if err != nil {
		log.Fatal(err)
	}
	defer m2.Free()
	met, err := m2.Evaluate(split.Test, 0)
	if err != nil {
		log.Fatal(err)
	}
	p, err := m2.Predict(split.Test, 0) // classes and probabilities
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(met.Accuracy > 0.9, len(p.Classes), len(p.Outputs[0]))
	// Output:
	// true 359 10
}
