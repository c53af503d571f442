// Package tutorial is the classic numpy MLP tutorial that gputrain grew from,
// as one run: scikit-learn's 8x8 handwritten digits 0 and 1 (the UCI set
// built into package data; gputrain trains on its fixed training split, 288
// of the 360 images, and keeps 72 for testing), a 64-128-128-1 sigmoid MLP,
// binary cross-entropy, plain gradient descent on the full batch, lr 0.01,
// 10001 steps, the loss printed every 1000 steps.
//
// `gputrain --preset tutorial` runs it from the command line, on any device;
// the tests here replay it on the CPU reference (float64) and on a GPU
// (float32) and compare the loss curves.
package tutorial

import (
	"context"
	"fmt"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/nn"
)

// The tutorial's run.
const (
	// Steps is the number of gradient-descent steps: full batch, so one
	// step an epoch. The tutorial loops `for i in range(10001)` and prints
	// the loss when i % 1000 == 0: iterations 0, 1000, …, 10000.
	Steps = 10001
	// LR is the learning rate of plain SGD.
	LR = 0.01
	// LogEvery is how often the tutorial prints the loss, in steps.
	LogEvery = 1000
	// Seed seeds the initial weights (Xavier uniform, nn.InitParams), as
	// gputrain's --seed default does.
	Seed = 1
)

// Digits are the two classes the tutorial separates.
var Digits = []int{0, 1}

// Spec returns the tutorial's network: 64 inputs, two sigmoid hidden layers
// of 128, one output with the sigmoid + binary cross-entropy head.
func Spec() nn.Spec {
	return nn.Spec{Inputs: data.DigitsSide * data.DigitsSide, Hidden: []int{128, 128}, Outputs: 1,
		Activation: backend.Sigmoid, Head: nn.BinaryHead}
}

// Config returns the tutorial's training configuration for the first
// steps steps (Steps for the whole run): plain SGD, lr 0.01, the full batch.
func Config(steps int) nn.Config {
	return nn.Config{Epochs: steps, Batch: 0, LR: LR, Optimizer: nn.SGD, Seed: Seed}
}

// Data returns the digits 0 and 1 of the built-in digits split (Classes 2:
// 0 and 1 keep their labels).
func Data() (*data.Split, error) {
	all, err := data.Digits()
	if err != nil {
		return nil, err
	}
	return all.Subset(Digits)
}

// Run trains a fresh model of Spec on b for the first steps steps of the
// tutorial and returns the per-step (= per-epoch) history and the model,
// which the caller frees. hook, if not nil, sees every epoch.
func Run(ctx context.Context, b backend.Backend, steps int, hook func(nn.EpochStats)) (nn.History, *nn.Model, error) {
	split, err := Data()
	if err != nil {
		return nn.History{}, nil, err
	}
	m, err := nn.NewModel(b, Spec(), Seed)
	if err != nil {
		return nn.History{}, nil, err
	}
	h, err := nn.Train(ctx, b, m, split.Train, Config(steps), nn.Hooks{Epoch: hook})
	if err != nil {
		m.Free()
		return h, nil, fmt.Errorf("tutorial: %w", err)
	}
	return h, m, nil
}
