package nn_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/safetensors"
)

// TestResumeIsExact: E epochs straight give the same model, bit for bit on
// the CPU backend, as E1 epochs cut short (the context cancelled at the end
// of epoch E1), saved, loaded and trained E−E1 more: the optimizer's state
// and the schedule's position travel in the checkpoint.
func TestResumeIsExact(t *testing.T) {
	const epochs, cut = 7, 3
	base := nn.Config{Epochs: epochs, Batch: 16, LR: 0.05, Seed: 4}
	with := func(o nn.Optimizer, s nn.Schedule, wd float64) nn.Config {
		c := base
		c.Optimizer, c.Schedule, c.WeightDecay = o, s, wd
		return c
	}
	tests := []struct {
		name string
		cfg  nn.Config
	}{
		{"sgd", with(nn.SGD, nn.Schedule{}, 0)},
		{"momentum", with(nn.Momentum, nn.Schedule{}, 0)},
		{"adam", with(nn.Adam, nn.Schedule{}, 0.001)},
		{"adamw", with(nn.AdamW, nn.Schedule{}, 0.01)},
		{"adam, cosine with warm-up", with(nn.Adam, nn.Schedule{Kind: nn.CosineLR, Warmup: 2, MinLR: 0.001}, 0)},
		{"momentum, step", with(nn.Momentum, nn.Schedule{Kind: nn.StepLR, StepEvery: 2, StepGamma: 0.5}, 0)},
		{"adam, plateau", with(nn.Adam, nn.Schedule{Kind: nn.PlateauLR, PlateauPatience: 1, PlateauFactor: 0.5}, 0)},
		{"momentum, dropout", func() nn.Config { c := with(nn.Momentum, nn.Schedule{}, 0); c.Dropout = 0.3; return c }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := blobSet(90, 2)
			b := cpuref.New()
			straight := newModel(t, b, blobSpec, 5)
			hs, err := nn.Train(context.Background(), b, straight, set, tt.cfg, nn.Hooks{})
			require.NoError(t, err)

			cutm := newModel(t, b, blobSpec, 5)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			h1, err := nn.Train(ctx, b, cutm, set, tt.cfg, nn.Hooks{Epoch: func(s nn.EpochStats) {
				if s.Epoch == cut {
					cancel()
				}
			}})
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, cut, cutm.Info.Epoch)
			path := filepath.Join(t.TempDir(), "cut.safetensors")
			require.NoError(t, cutm.Save(path))

			b2 := cpuref.New()
			resumed, err := nn.Load(path, b2)
			require.NoError(t, err)
			defer resumed.Free()
			if o, ok := resumed.OptimizerState(); assert.True(t, ok, "the checkpoint holds the optimizer's state") {
				assert.Equal(t, tt.cfg.Optimizer, o)
			}
			assert.Equal(t, tt.cfg.Dropout, resumed.Info.Dropout, "the checkpoint keeps the dropout")
			rest := tt.cfg
			rest.Epochs = epochs - cut
			h2, err := nn.Train(context.Background(), b2, resumed, set, rest, nn.Hooks{})
			require.NoError(t, err)

			want, err := straight.Params()
			require.NoError(t, err)
			got, err := resumed.Params()
			require.NoError(t, err)
			assert.Equal(t, want, got, "bit for bit")
			assert.Equal(t, straight.Info.Step, resumed.Info.Step)
			assert.Equal(t, straight.Info.Schedule, resumed.Info.Schedule)
			var lrs, lrsResumed []float64
			for _, e := range hs.Epochs {
				lrs = append(lrs, e.LR)
			}
			for _, e := range append(h1.Epochs[:cut], h2.Epochs...) {
				lrsResumed = append(lrsResumed, e.LR)
			}
			assert.Equal(t, lrs, lrsResumed, "the schedule's rates")
			// The epoch losses agree to the last bits only: a call sums its
			// first step's loss apart (the divergence rule's reference).
			assert.InDeltaSlice(t, losses(hs), losses(nn.History{Epochs: append(h1.Epochs[:cut], h2.Epochs...)}), 1e-12)
		})
	}
}

// TestResumeWithoutState: a checkpoint without the optimizer's state and
// the schedule's position (as files from before they were kept are) still
// loads and trains, the schedule starting over the call's epochs and the
// moments from zero; another optimizer than the checkpoint's starts from
// zero too.
func TestResumeWithoutState(t *testing.T) {
	set := blobSet(90, 2)
	cfg := nn.Config{Epochs: 4, Batch: 16, LR: 0.05, Seed: 4, Optimizer: nn.Adam, Schedule: nn.Schedule{Kind: nn.CosineLR}}
	b := cpuref.New()
	m := newModel(t, b, blobSpec, 5)
	_, err := nn.Train(context.Background(), b, m, set, cfg, nn.Hooks{})
	require.NoError(t, err)
	require.NotNil(t, m.Info.Schedule)
	assert.Equal(t, 4, m.Info.Schedule.Done)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, m.Save(path))

	// Strip the new fields: the parameters and the training info without
	// schedule and optimizer_state.
	f, err := safetensors.Read(path)
	require.NoError(t, err)
	var ts []safetensors.Tensor
	for _, x := range f.Tensors {
		if x.Name[:len("layers.")] == "layers." {
			ts = append(ts, x)
		}
	}
	assert.Len(t, f.Tensors, 3*len(ts), "weights, exp_avg and exp_avg_sq")
	var info map[string]any
	require.NoError(t, json.Unmarshal([]byte(f.Metadata[nn.MetaTraining]), &info))
	assert.Contains(t, info, "schedule")
	assert.Equal(t, "adam", info["optimizer_state"])
	delete(info, "schedule")
	delete(info, "optimizer_state")
	ib, err := json.Marshal(info)
	require.NoError(t, err)
	f.Metadata[nn.MetaTraining] = string(ib)
	old, err := safetensors.Encode("old", ts, f.Metadata)
	require.NoError(t, err)
	oldPath := filepath.Join(t.TempDir(), "old.safetensors")
	require.NoError(t, os.WriteFile(oldPath, old, 0o644))

	tests := []struct {
		name, path string
		opt        nn.Optimizer
	}{
		{"old checkpoint", oldPath, nn.Adam},
		{"finished schedule", path, nn.Adam},
		{"another optimizer", path, nn.Momentum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := nn.Load(tt.path, cpuref.New())
			require.NoError(t, err)
			defer l.Free()
			_, has := l.OptimizerState()
			assert.Equal(t, tt.path == path, has)
			c := cfg
			c.Optimizer = tt.opt
			h, err := nn.Train(context.Background(), l.Backend(), l, set, c, nn.Hooks{})
			require.NoError(t, err)
			assert.Equal(t, cfg.LR, h.Epochs[0].LR, "a new schedule starts at the rate")
			assert.Equal(t, 8, l.Info.Epoch)
			assert.Equal(t, 4, l.Info.Schedule.Done)
			o, ok := l.OptimizerState()
			assert.True(t, ok)
			assert.Equal(t, tt.opt, o)
		})
	}
}
