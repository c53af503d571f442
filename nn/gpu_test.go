package nn_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/gpu/gputest"
	"github.com/gputrain/gputrain/nn"
)

// TestTrainGPUMatchesReference trains the same models with the same seeds
// on the GPU (float32) and on the CPU reference (float64): the weights start
// equal up to float32 rounding, the epoch losses track each other, and both
// reach the accuracy. It skips where there is no WebGPU adapter.
func TestTrainGPUMatchesReference(t *testing.T) {
	g := gputest.Open(t)
	t.Logf("GPU backend: %v", g.Info())
	tests := []struct {
		name   string
		spec   nn.Spec
		set    *nn.Set
		cfg    nn.Config
		minAcc float64
	}{
		{"xor tanh adam partial batch", xorSpec, xorSet(200, 1),
			nn.Config{Epochs: 30, Batch: 24, LR: 0.05, Optimizer: nn.Adam, Seed: 7}, 0.95},
		{"blobs relu momentum", blobSpec, blobSet(150, 1),
			nn.Config{Epochs: 10, Batch: 32, LR: 0.05, Optimizer: nn.Momentum, Seed: 7, Standardize: true}, 0.97},
		{"pixels sigmoid sgd full batch", pixelSpec, pixelSet(100, 1),
			nn.Config{Epochs: 50, LR: 2, Optimizer: nn.SGD, Seed: 7}, 1},
		{"blobs relu adamw weight decay", blobSpec, blobSet(150, 1),
			nn.Config{Epochs: 10, Batch: 32, LR: 0.02, Optimizer: nn.AdamW, WeightDecay: 0.1, Seed: 7, Standardize: true}, 0.97},
		{"xor tanh momentum l2", xorSpec, xorSet(200, 1),
			nn.Config{Epochs: 30, Batch: 24, LR: 0.05, Optimizer: nn.Momentum, WeightDecay: 1e-3, Seed: 7}, 0.95},
		{"xor tanh adam cosine with warm-up", xorSpec, xorSet(200, 1),
			nn.Config{Epochs: 30, Batch: 24, LR: 0.05, Optimizer: nn.Adam, Seed: 7,
				Schedule: nn.Schedule{Kind: nn.CosineLR, Warmup: 3, MinLR: 1e-3}}, 0.95},
		{"blobs relu momentum clipped", blobSpec, blobSet(150, 1),
			nn.Config{Epochs: 10, Batch: 32, LR: 0.05, Optimizer: nn.Momentum, ClipNorm: 0.5, Seed: 7, Standardize: true}, 0.97},
		{"blobs relu adam class weights", blobSpec, blobSet(150, 1),
			nn.Config{Epochs: 10, Batch: 32, LR: 0.02, Optimizer: nn.Adam, ClassWeights: []float64{0.5, 2, 1}, Seed: 7, Standardize: true}, 0.95},
		{"blobs relu adam dropout", blobSpec, blobSet(150, 1),
			nn.Config{Epochs: 10, Batch: 32, LR: 0.02, Optimizer: nn.Adam, Dropout: 0.25, Seed: 7, Standardize: true}, 0.95},
		{"xor tanh momentum dropout", xorSpec, xorSet(200, 1),
			nn.Config{Epochs: 30, Batch: 24, LR: 0.05, Optimizer: nn.Momentum, Dropout: 0.1, Seed: 7}, 0.9},
		{"line regression", lineSpec, lineSet(100, 1),
			nn.Config{Epochs: 50, Batch: 10, LR: 0.05, Seed: 7, Standardize: true}, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cpuref.New()
			mc := newModel(t, c, tt.spec, 42)
			mg := newModel(t, g, tt.spec, 42)
			pc, err := mc.Params()
			require.NoError(t, err)
			pg, err := mg.Params()
			require.NoError(t, err)
			for i := range pc {
				assert.InDeltaSlice(t, pc[i].W, pg[i].W, 1e-6, "layer %d initial weights", i)
			}
			hc, err := nn.Train(context.Background(), c, mc, tt.set, tt.cfg, nn.Hooks{})
			require.NoError(t, err)
			hg, err := nn.Train(context.Background(), g, mg, tt.set, tt.cfg, nn.Hooks{})
			require.NoError(t, err)
			require.Len(t, hg.Epochs, len(hc.Epochs))
			for i := range hc.Epochs {
				assert.InDelta(t, hc.Epochs[i].Loss, hg.Epochs[i].Loss, 1e-3+1e-2*hc.Epochs[i].Loss, "epoch %d loss", i+1)
			}
			mt, err := mg.Evaluate(tt.set, 16)
			require.NoError(t, err)
			if !math.IsNaN(tt.minAcc) {
				assert.GreaterOrEqual(t, mt.Accuracy, tt.minAcc)
			}
			pcs, err := mc.Predict(tt.set, 0)
			require.NoError(t, err)
			pgs, err := mg.Predict(tt.set, 16)
			require.NoError(t, err)
			for i := range pcs.Outputs {
				assert.InDeltaSlice(t, pcs.Outputs[i], pgs.Outputs[i], 1e-2, "row %d", i)
			}
		})
	}
}

// TestCheckpointAcrossBackends saves a model trained on the reference and
// loads it onto the GPU: the predictions agree to float32 precision.
func TestCheckpointAcrossBackends(t *testing.T) {
	g := gputest.Open(t)
	c := cpuref.New()
	set := blobSet(60, 2)
	m := newModel(t, c, blobSpec, 3)
	_, err := nn.Train(context.Background(), c, m, set, nn.Config{Epochs: 3, Batch: 16, LR: 0.05, Standardize: true}, nn.Hooks{})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, m.Save(path))
	l, err := nn.Load(path, g)
	require.NoError(t, err)
	defer l.Free()
	want, err := m.Predict(set, 0)
	require.NoError(t, err)
	got, err := l.Predict(set, 0)
	require.NoError(t, err)
	assert.Equal(t, want.Classes, got.Classes)
	for i := range want.Outputs {
		assert.InDeltaSlice(t, want.Outputs[i], got.Outputs[i], 1e-5, "row %d", i)
	}
}

// TestTrainStepDispatches counts what nn.Train records on the GPU for a
// 784-128-64-10 MLP with each optimizer: per epoch two Fills (the loss and
// the count accumulators) and 10 dispatches a step (see Model.trainStep),
// one update of every parameter included: weight decay (L2 or AdamW's) is
// read by that same update and adds none, nor does a learning-rate
// schedule (a write of the optimizer's table between epochs); gradient
// clipping adds one, GradNormSq, and no readback. Dropout adds none: its
// mask is drawn in the layers' own products.
func TestTrainStepDispatches(t *testing.T) {
	g := gputest.Open(t)
	set := data.Synthetic(256, 1, 3).Train
	spec := nn.Spec{Inputs: set.Cols, Hidden: []int{128, 64}, Outputs: 10, Activation: backend.Sigmoid, Head: nn.SoftmaxHead}
	for _, tc := range []struct {
		opt  nn.Optimizer
		wd   float64
		sch  nn.ScheduleKind
		clip float64
		drop float64
	}{{nn.SGD, 0, 0, 0, 0}, {nn.Momentum, 0, 0, 0, 0}, {nn.Adam, 0, 0, 0, 0}, {nn.SGD, 1e-3, 0, 0, 0}, {nn.Momentum, 1e-3, 0, 0, 0}, {nn.Adam, 1e-3, 0, 0, 0}, {nn.AdamW, 0.01, 0, 0, 0},
		{nn.AdamW, 0.01, nn.CosineLR, 0, 0}, {nn.SGD, 0, nn.StepLR, 0, 0}, {nn.Adam, 0, 0, 1, 0}, {nn.AdamW, 0.01, nn.CosineLR, 1, 0}, {nn.Adam, 0, 0, 0, 0.5}} {
		opt := tc.opt
		t.Run(fmt.Sprintf("%v/wd=%g/%v/clip=%g/dropout=%g", opt, tc.wd, tc.sch, tc.clip, tc.drop), func(t *testing.T) {
			m, err := nn.NewModel(g, spec, 1)
			require.NoError(t, err)
			defer m.Free()
			cfg := nn.Config{Epochs: 2, Batch: 64, LR: 0.01, Optimizer: opt, WeightDecay: tc.wd,
				Schedule: nn.Schedule{Kind: tc.sch, StepEvery: 1}, ClipNorm: tc.clip, Dropout: tc.drop}
			_, err = nn.Train(context.Background(), g, m, set, cfg, nn.Hooks{}) // compiles the pipelines
			require.NoError(t, err)
			before, reads := g.Stats().Dispatches, g.Stats().Readbacks
			_, err = nn.Train(context.Background(), g, m, set, cfg, nn.Hooks{})
			require.NoError(t, err)
			steps := cfg.Epochs * set.Rows / cfg.Batch
			perStep := 10
			if tc.clip != 0 {
				perStep++ // GradNormSq
			}
			assert.Equal(t, uint64(2*cfg.Epochs+perStep*steps), g.Stats().Dispatches-before, "%d epochs of %d steps", cfg.Epochs, steps/cfg.Epochs)
			// One readback an epoch (the divergence rule's reference rides
			// on the first), then the weights and biases, a tensor each,
			// checked finite at the end.
			assert.Equal(t, uint64(cfg.Epochs+2*(len(spec.Hidden)+1)), g.Stats().Readbacks-reads)
		})
	}
}
