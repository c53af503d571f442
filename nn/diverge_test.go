package nn_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/gpu/gputest"
	"github.com/gputrain/gputrain/nn"
)

// onBackends runs f on the CPU reference and, in a subtest that skips
// where there is no adapter, on a GPU.
func onBackends(t *testing.T, f func(t *testing.T, b backend.Backend)) {
	t.Run("cpu", func(t *testing.T) { f(t, cpuref.New()) })
	t.Run("gpu", func(t *testing.T) { f(t, gputest.Open(t)) })
}

// TestTrainDivergesWhileFinite: SGD at lr 1e6 on the xor task blows the
// loss up to millions in the first steps without reaching NaN or infinity
// (tanh saturates; the logits are large but finite, in float32 too). Train
// stops at the first reading after the blow-up, names the steps since the
// previous reading and reports the finite loss.
func TestTrainDivergesWhileFinite(t *testing.T) {
	tests := []struct {
		name                  string
		batch, logEvery       int
		epoch, from, to, hist int // where it is caught; epochs reported before
	}{
		// 10 steps an epoch, read at its end: caught there, steps 1–10.
		{"epoch reading", 10, 0, 1, 1, 10, 0},
		// Read every 3 steps: caught at step 3, within the first epoch.
		{"LogEvery reading", 10, 3, 1, 1, 3, 0},
		// Full batch: epoch 1 is the loss at the starting weights (read
		// before its update), so the blow-up of update 1 shows at epoch 2:
		// one reading later, with no reading added.
		{"full batch", 0, 0, 2, 2, 2, 1},
	}
	onBackends(t, func(t *testing.T, b backend.Backend) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				m := newModel(t, b, xorSpec, 1)
				var epochs []nn.EpochStats
				h, err := nn.Train(context.Background(), b, m, xorSet(100, 3),
					nn.Config{Epochs: 5, Batch: tt.batch, LR: 1e6, Optimizer: nn.SGD, LogEvery: tt.logEvery},
					nn.Hooks{Epoch: func(s nn.EpochStats) { epochs = append(epochs, s) }})
				require.ErrorIs(t, err, nn.ErrDiverged)
				var de *nn.DivergedError
				require.ErrorAs(t, err, &de)
				t.Log(err)
				assert.True(t, de.Loss > 0 && !math.IsInf(de.Loss, 0), "the loss stayed finite: %v", de.Loss)
				assert.Contains(t, de.What, "more than 100 times")
				assert.Contains(t, err.Error(), "try a smaller learning rate than 1e+06")
				assert.Equal(t, []int{tt.epoch, tt.from, tt.to}, []int{de.Epoch, de.FromStep, de.ToStep})
				assert.Len(t, h.Epochs, tt.hist, "the diverged epoch is not reported")
				assert.Len(t, epochs, tt.hist, "nor passed to the Epoch hook (which saves checkpoints)")
			})
		}
	})
}

// TestTrainDivergenceSparesHealthyRuns: runs that are not diverging are not
// stopped — a normal run, the same model resumed near a loss of 0 with a
// learning rate that makes it wobble, and a regression on unscaled targets
// whose loss starts in the tens of thousands.
func TestTrainDivergenceSparesHealthyRuns(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend.Backend) {
		m := newModel(t, b, xorSpec, 1)
		set := xorSet(200, 1)
		h, err := nn.Train(context.Background(), b, m, set, nn.Config{Epochs: 300, Batch: 20, LR: 0.05, Optimizer: nn.Adam}, nn.Hooks{})
		require.NoError(t, err)
		require.Less(t, h.Last().Loss, 0.05)
		h, err = nn.Train(context.Background(), b, m, set, nn.Config{Epochs: 20, Batch: 10, LR: 0.2, Optimizer: nn.Adam, LogEvery: 1}, nn.Hooks{})
		require.NoError(t, err)
		lo, hi := math.Inf(1), 0.0
		for _, l := range h.Logs {
			lo, hi = min(lo, l.Loss), max(hi, l.Loss)
		}
		t.Logf("resumed: step losses from %.3g to %.3g", lo, hi)
		assert.Greater(t, hi, 100*lo, "a rule relative to the run's own early losses alone could stop it; the floor of a guess's loss does not")

		line := newModel(t, b, lineSpec, 1)
		_, err = nn.Train(context.Background(), b, line, lineSet(100, 2), nn.Config{Epochs: 20, Batch: 10, LR: 1e-6, Optimizer: nn.SGD}, nn.Hooks{})
		require.NoError(t, err)
	})
}

// TestFirstStepLossCounted: the first step's loss, kept apart as the
// divergence rule's reference, is the loss of the first minibatch at the
// starting weights, and it is counted back into the first epoch: a run read
// every step starts with it, and the epoch losses are those of a run read
// only at the epochs' ends.
func TestFirstStepLossCounted(t *testing.T) {
	b := cpuref.New()
	set := xorSet(100, 5)
	cfg := nn.Config{Epochs: 2, Batch: 10, LR: 0.1, Optimizer: nn.Adam, Seed: 9}
	run := func(logEvery int) (nn.History, float64) {
		m := newModel(t, b, xorSpec, 2)
		// The first minibatch: epoch 1's order, as Train shuffles it.
		perm := make([]int, set.Rows)
		for i := range perm {
			perm[i] = i
		}
		rand.New(rand.NewPCG(cfg.Seed, 1)).Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		ev, err := m.Evaluate(set.Take(perm[:cfg.Batch], "first batch"), 0)
		require.NoError(t, err)
		c := cfg
		c.LogEvery = logEvery
		h, err := nn.Train(context.Background(), b, m, set, c, nn.Hooks{})
		require.NoError(t, err)
		return h, ev.Loss
	}
	plain, _ := run(0)
	every, first := run(1)
	assert.InDelta(t, first, every.Logs[0].Loss, 1e-12, "the first reading is the first step's loss")
	require.Len(t, plain.Epochs, 2)
	for i := range plain.Epochs {
		assert.InDelta(t, plain.Epochs[i].Loss, every.Epochs[i].Loss, 1e-12, "epoch %d", i+1)
	}
}
