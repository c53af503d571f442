package nn_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/nn"
)

// noisyXOR is xorSet with a fraction of its labels flipped: a small network
// trained hard on few rows of it overfits, so the validation loss turns up.
func noisyXOR(n int, seed uint64, flip int) *nn.Set {
	s := xorSet(n, seed)
	for i := 0; i < n; i += flip {
		s.Labels[i] = 1 - s.Labels[i]
	}
	return s
}

var overfitSpec = nn.Spec{Inputs: 2, Hidden: []int{32, 32}, Outputs: 1, Activation: backend.Tanh, Head: nn.BinaryHead}

// TestValidationFigures: every epoch's ValLoss and ValAccuracy are what
// Evaluate says of the model after that epoch, and the best epoch is the one
// with the lowest validation loss.
func TestValidationFigures(t *testing.T) {
	b := cpuref.New()
	m := newModel(t, b, xorSpec, 1)
	train, val := xorSet(120, 11), xorSet(50, 12)
	cfg := nn.Config{Epochs: 1, Batch: 16, LR: 0.05, Optimizer: nn.Adam, Seed: 3, Val: val}
	var all []nn.EpochStats
	for range 6 {
		h, err := nn.Train(context.Background(), b, m, train, cfg, nn.Hooks{})
		require.NoError(t, err)
		require.Len(t, h.Epochs, 1)
		assert.Equal(t, 120, h.TrainRows)
		assert.Equal(t, 50, h.ValRows)
		st := h.Epochs[0]
		ev, err := m.Evaluate(val, 0)
		require.NoError(t, err)
		assert.InDelta(t, ev.Loss, st.ValLoss, 1e-12*ev.Loss, "epoch %d validation loss", st.Epoch)
		assert.Equal(t, ev.Accuracy, st.ValAccuracy, "epoch %d validation accuracy", st.Epoch)
		all = append(all, st)
	}
	best := 0
	for i, st := range all {
		if st.ValLoss < all[best].ValLoss {
			best = i
		}
		assert.Equal(t, i == best, st.Best, "epoch %d is the best so far", st.Epoch)
	}
	require.NotNil(t, m.Info.Validation)
	assert.Equal(t, best+1, m.Info.Validation.BestEpoch)
	assert.Equal(t, all[best].ValLoss, m.Info.Validation.BestLoss)
	assert.Equal(t, len(all)-1-best, m.Info.Validation.SinceBest)
	assert.Less(t, all[len(all)-1].ValLoss, all[0].ValLoss, "the model learns")

	// Without validation the figures are NaN and the state is dropped.
	h, err := nn.Train(context.Background(), b, m, train, nn.Config{Epochs: 1, LR: 0.01}, nn.Hooks{})
	require.NoError(t, err)
	assert.True(t, math.IsNaN(h.Epochs[0].ValLoss))
	assert.True(t, math.IsNaN(h.Epochs[0].ValAccuracy))
	assert.Zero(t, h.BestEpoch)
	assert.Nil(t, m.Info.Validation)
}

// TestValidationFraction: ValFraction holds a stratified part of the
// training set out, the same rows for the same seed, and Train trains on
// the rest.
func TestValidationFraction(t *testing.T) {
	set := blobSet(150, 3) // 50 rows of each class
	run := func(seed uint64) nn.History {
		b := cpuref.New()
		m := newModel(t, b, blobSpec, 1)
		h, err := nn.Train(context.Background(), b, m, set,
			nn.Config{Epochs: 3, Batch: 32, LR: 0.05, Optimizer: nn.Momentum, Standardize: true, ValFraction: 0.2, ValSeed: seed}, nn.Hooks{})
		require.NoError(t, err)
		assert.Equal(t, &nn.ValidationInfo{Fraction: 0.2, Seed: seed, Rows: 30, BestEpoch: h.BestEpoch,
			BestLoss: h.Epochs[h.BestEpoch-1].ValLoss, SinceBest: 3 - h.BestEpoch}, m.Info.Validation)
		return h
	}
	h := run(5)
	assert.Equal(t, 120, h.TrainRows)
	assert.Equal(t, 30, h.ValRows, "10 of each class's 50")
	assert.Equal(t, 120, h.Epochs[0].Samples)
	for _, e := range h.Epochs {
		assert.False(t, math.IsNaN(e.ValLoss))
		assert.GreaterOrEqual(t, e.ValAccuracy, 0.0)
	}
	assert.Equal(t, h.Epochs, withoutTimes(run(5).Epochs, h.Epochs), "the same seed holds out the same rows")
	assert.NotEqual(t, h.Epochs[0].ValLoss, run(6).Epochs[0].ValLoss, "another seed holds out other rows")
}

// withoutTimes returns got with the wall-clock fields of want, so that two
// histories compare by their figures.
func withoutTimes(got, want []nn.EpochStats) []nn.EpochStats {
	out := append([]nn.EpochStats(nil), got...)
	for i := range out {
		out[i].Duration, out[i].Elapsed, out[i].SamplesPerSec = want[i].Duration, want[i].Elapsed, want[i].SamplesPerSec
	}
	return out
}

// earlyStopRun trains overfitSpec on noisy XOR with early stopping and
// returns the history and each epoch's parameters, read in the epoch hook.
func earlyStopRun(t *testing.T, b backend.Backend, m *nn.Model, cfg nn.Config, save string) (nn.History, map[int][]nn.Params) {
	t.Helper()
	params := map[int][]nn.Params{}
	hooks := nn.Hooks{Epoch: func(s nn.EpochStats) {
		p, err := m.Params()
		require.NoError(t, err)
		params[s.Epoch] = p
		if save != "" {
			require.NoError(t, m.Save(save))
		}
	}}
	h, err := nn.Train(context.Background(), b, m, noisyXOR(40, 21, 5), cfg, hooks)
	require.NoError(t, err)
	return h, params
}

// earlyStopCfg learns the noisy task (validation accuracy ≈ 0.89 at the best
// epoch, ≈ 140) and then overfits it.
var earlyStopCfg = nn.Config{Epochs: 400, Batch: 8, LR: 0.3, Optimizer: nn.SGD, Seed: 5, Val: xorSet(200, 22), Patience: 20}

// TestEarlyStoppingRestoresBest: training stops Patience epochs after the
// lowest validation loss, and the model then holds that epoch's weights —
// which is also what Save wrote during training.
func TestEarlyStoppingRestoresBest(t *testing.T) {
	b := cpuref.New()
	m := newModel(t, b, overfitSpec, 2)
	ck := filepath.Join(t.TempDir(), "m.safetensors")
	h, params := earlyStopRun(t, b, m, earlyStopCfg, ck)
	require.True(t, h.StoppedEarly, "the noisy task overfits within 400 epochs")
	best := 1
	for _, e := range h.Epochs {
		if e.ValLoss < h.Epochs[best-1].ValLoss {
			best = e.Epoch
		}
	}
	t.Logf("best epoch %d of %d (validation loss %.4f, last %.4f)", best, len(h.Epochs), h.Epochs[best-1].ValLoss, h.Last().ValLoss)
	require.Greater(t, best, 1, "a test of restoring needs the best epoch inside the run")
	assert.Equal(t, best, h.BestEpoch)
	assert.Len(t, h.Epochs, best+earlyStopCfg.Patience)
	assert.Greater(t, h.Last().ValLoss, h.Epochs[best-1].ValLoss)
	assert.Equal(t, len(h.Epochs), m.Info.Epoch, "epochs count every epoch trained")
	assert.Less(t, h.Epochs[best-1].ValLoss, 0.8*h.Epochs[0].ValLoss, "the model learned before it overfitted")
	assert.Equal(t, &nn.ValidationInfo{Rows: 200, Patience: 20, BestEpoch: best, BestLoss: h.Epochs[best-1].ValLoss,
		SinceBest: 20, StoppedEarly: true}, m.Info.Validation)

	got, err := m.Params()
	require.NoError(t, err)
	assert.Equal(t, params[best], got, "the best epoch's weights are restored")
	assert.NotEqual(t, params[len(h.Epochs)], got)
	ev, err := m.Evaluate(earlyStopCfg.Val, 0)
	require.NoError(t, err)
	assert.InDelta(t, h.Epochs[best-1].ValLoss, ev.Loss, 1e-12)

	// The checkpoint written after the last epoch holds the best weights and
	// the early-stopping state.
	l, err := nn.Load(ck, b)
	require.NoError(t, err)
	defer l.Free()
	saved, err := l.Params()
	require.NoError(t, err)
	assert.Equal(t, params[best], saved)
	assert.Equal(t, m.Info.Validation.BestEpoch, l.Info.Validation.BestEpoch)
	assert.Equal(t, 20, l.Info.Validation.SinceBest)
	assert.Equal(t, len(h.Epochs), l.Info.Epoch)
}

// TestEarlyStoppingResume: a run saved at its best epoch and resumed from
// the checkpoint continues exactly as the uninterrupted run (plain SGD keeps
// no optimizer state; shuffling is seeded per epoch); a run saved after
// worse epochs resumes from the best weights with the count of epochs since
// the best kept.
func TestEarlyStoppingResume(t *testing.T) {
	b := cpuref.New()
	whole, _ := earlyStopRun(t, b, newModel(t, b, overfitSpec, 2), earlyStopCfg, "")
	require.True(t, whole.StoppedEarly)
	// The last best epoch before the best one, so that the resumed run has
	// a later best to find.
	k := 0
	for _, e := range whole.Epochs[:whole.BestEpoch-1] {
		if e.Best {
			k = e.Epoch
		}
	}
	require.Positive(t, k)
	dir := t.TempDir()

	first := newModel(t, b, overfitSpec, 2)
	cfg := earlyStopCfg
	cfg.Epochs = k
	_, _ = earlyStopRun(t, b, first, cfg, filepath.Join(dir, "k.safetensors"))
	resumed, err := nn.Load(filepath.Join(dir, "k.safetensors"), b)
	require.NoError(t, err)
	defer resumed.Free()
	require.NotNil(t, resumed.Info.Validation)
	assert.Equal(t, k, resumed.Info.Validation.BestEpoch)
	cfg.Epochs = earlyStopCfg.Epochs - k
	rest, _ := earlyStopRun(t, b, resumed, cfg, "")
	assert.Equal(t, whole.BestEpoch, rest.BestEpoch)
	assert.True(t, rest.StoppedEarly)
	assert.Equal(t, withoutTimes(whole.Epochs[k:], rest.Epochs), rest.Epochs, "the resumed epochs are the uninterrupted run's")

	// Saved three epochs after the best: the file holds the best weights;
	// resuming keeps counting, so at most Patience-3 more epochs without a
	// better loss are trained.
	stopAt := whole.BestEpoch + 3
	m := newModel(t, b, overfitSpec, 2)
	cfg.Epochs = stopAt
	_, params := earlyStopRun(t, b, m, cfg, filepath.Join(dir, "late.safetensors"))
	late, err := nn.Load(filepath.Join(dir, "late.safetensors"), b)
	require.NoError(t, err)
	defer late.Free()
	assert.Equal(t, 3, late.Info.Validation.SinceBest)
	assert.Equal(t, stopAt, late.Info.Epoch)
	p, err := late.Params()
	require.NoError(t, err)
	assert.Equal(t, params[whole.BestEpoch], p, "the checkpoint holds the best epoch's weights")
	cfg.Epochs = 100
	h, _ := earlyStopRun(t, b, late, cfg, "")
	assert.Equal(t, stopAt+1, h.Epochs[0].Epoch)
	assert.True(t, h.StoppedEarly)
	if firstBest := bestEpochs(h); len(firstBest) == 0 {
		assert.Len(t, h.Epochs, earlyStopCfg.Patience-3, "the count since the best went on from 3")
	} else {
		assert.Less(t, firstBest[0], stopAt+earlyStopCfg.Patience-3, "no improvement after the count ran out")
	}

	// Another split starts the state afresh.
	other := newModel(t, b, overfitSpec, 2)
	require.NoError(t, other.LoadParams(filepath.Join(dir, "late.safetensors")))
	cfg.Val = xorSet(150, 23)
	h, _ = earlyStopRun(t, b, other, cfg, "")
	assert.True(t, h.Epochs[0].Best, "a new validation set starts with no best")
}

func TestValidationRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  nn.Config
		want string
	}{
		{"patience without validation", nn.Config{Epochs: 1, LR: 0.1, Patience: 3}, "needs a validation set"},
		{"negative patience", nn.Config{Epochs: 1, LR: 0.1, Patience: -1, ValFraction: 0.2}, "patience -1"},
		{"fraction 1", nn.Config{Epochs: 1, LR: 0.1, ValFraction: 1}, "validation fraction 1"},
		{"negative fraction", nn.Config{Epochs: 1, LR: 0.1, ValFraction: -0.1}, "validation fraction -0.1"},
		{"validation set of another width", nn.Config{Epochs: 1, LR: 0.1, Val: pixelSet(10, 1)}, "validation set: nn: pixels has 4 features"},
		{"fraction too small", nn.Config{Epochs: 1, LR: 0.1, ValFraction: 0.01}, "0 held out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := cpuref.New()
			m := newModel(t, b, xorSpec, 1)
			_, err := nn.Train(context.Background(), b, m, xorSet(20, 1), tt.cfg, nn.Hooks{})
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// bestEpochs lists the epochs of h that lowered the validation loss.
func bestEpochs(h nn.History) []int {
	var out []int
	for _, e := range h.Epochs {
		if e.Best {
			out = append(out, e.Epoch)
		}
	}
	return out
}
