package nn_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/nn"
)

// TestTrainerStepsAsTrainDoes: a Trainer walking the same row order trains a
// model to the same parameters, bit for bit on the CPU, as Train does: the
// step the benchmarks time is the step that trains models. Each case walks
// the order Train walks (in order for full batch, epoch 1's shuffle for
// minibatches, the last one shorter) once per epoch.
func TestTrainerStepsAsTrainDoes(t *testing.T) {
	set := xorSet(50, 3)
	spec := nn.Spec{Inputs: 2, Hidden: []int{6}, Outputs: 1, Activation: backend.Tanh, Head: nn.BinaryHead}
	tests := []struct {
		name   string
		cfg    nn.Config
		epochs int
	}{
		{"full batch, sgd", nn.Config{LR: 0.3}, 3},
		{"minibatches of 16 (a last one of 2), adam", nn.Config{Batch: 16, LR: 0.05, Optimizer: nn.Adam, Seed: 9}, 1},
		{"minibatches of 10, momentum", nn.Config{Batch: 10, LR: 0.1, Optimizer: nn.Momentum, Seed: 2}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := cpuref.New()
			want, err := nn.NewModel(b, spec, 4)
			require.NoError(t, err)
			defer want.Free()
			cfg := tt.cfg
			cfg.Epochs = tt.epochs
			hist, err := nn.Train(context.Background(), b, want, set, cfg, nn.Hooks{})
			require.NoError(t, err)

			got, err := nn.NewModel(b, spec, 4)
			require.NoError(t, err)
			defer got.Free()
			tr, err := nn.NewTrainer(got, set, tt.cfg, 0)
			require.NoError(t, err)
			defer tr.Free()
			order := make([]uint32, set.Rows)
			for i := range order {
				order[i] = uint32(i)
			}
			steps, rows := 0, 0
			for epoch := 1; epoch <= tt.epochs; epoch++ {
				if tr.StepsPerOrder() > 1 { // Train's shuffle of this epoch
					for i := range order {
						order[i] = uint32(i)
					}
					rng := rand.New(rand.NewPCG(tt.cfg.Seed, uint64(epoch)))
					rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
				}
				require.NoError(t, tr.SetOrder(order))
				for range tr.StepsPerOrder() {
					rows += tr.Step()
					steps++
				}
			}
			assert.Equal(t, tt.epochs*set.Rows, rows, "rows stepped")
			assert.Equal(t, want.Info.Step, steps)
			wp, err := want.Params()
			require.NoError(t, err)
			gp, err := got.Params()
			require.NoError(t, err)
			assert.Equal(t, wp, gp, "parameters after %d steps", steps)

			// The sums hold every step's loss since they were last reset.
			loss, count, err := tr.Sums()
			require.NoError(t, err)
			last := hist.Last()
			if tt.epochs == 1 {
				assert.InDelta(t, last.Loss, loss/float64(set.Rows), 1e-12, "mean loss of the epoch")
				assert.InDelta(t, last.Accuracy, count/float64(set.Rows), 1e-12, "accuracy of the epoch")
			}
			tr.ResetSums()
			loss, count, err = tr.Sums()
			require.NoError(t, err)
			assert.Zero(t, loss)
			assert.Zero(t, count)
		})
	}
}

// TestNewTrainerRejects: a bad configuration, set or order is an error, not
// a panic on the device.
func TestNewTrainerRejects(t *testing.T) {
	b := cpuref.New()
	spec := nn.Spec{Inputs: 2, Hidden: []int{3}, Outputs: 1, Activation: backend.Sigmoid, Head: nn.BinaryHead}
	m, err := nn.NewModel(b, spec, 1)
	require.NoError(t, err)
	defer m.Free()
	set := xorSet(20, 1)
	tests := []struct {
		name      string
		set       *nn.Set
		cfg       nn.Config
		orderRows int
		want      string
	}{
		{"no learning rate", set, nn.Config{}, 0, "learning rate"},
		{"negative batch", set, nn.Config{LR: 0.1, Batch: -1}, 0, "batch size"},
		{"dropout of 1", set, nn.Config{LR: 0.1, Dropout: 1}, 0, "Config.Dropout"},
		{"wrong width", xorSet3(20), nn.Config{LR: 0.1}, 0, "features per row"},
		{"negative order", set, nn.Config{LR: 0.1}, -1, "order of -1 rows"},
		{"order shorter than a batch", set, nn.Config{LR: 0.1, Batch: 8}, 4, "order of 4 rows for minibatches of 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := nn.NewTrainer(m, tt.set, tt.cfg, tt.orderRows)
			require.Error(t, err)
			assert.Nil(t, tr)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	live := b.Live()
	tr, err := nn.NewTrainer(m, set, nn.Config{LR: 0.1, Batch: 8}, 32)
	require.NoError(t, err)
	assert.Equal(t, 8, tr.Batch())
	assert.Equal(t, 4, tr.StepsPerOrder())
	assert.Error(t, tr.SetOrder(make([]uint32, 20)), "an order of another length")
	tr.Free()
	assert.Equal(t, live, b.Live(), "Free releases what NewTrainer allocated")
}

// xorSet3 is xorSet with a third, constant feature.
func xorSet3(n int) *nn.Set {
	s := xorSet(n, 1)
	f := make([]float64, 0, 3*n)
	for i := range n {
		f = append(f, s.Features[2*i], s.Features[2*i+1], 1)
	}
	s.Features, s.Cols = f, 3
	return s
}
