package nn_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/gpu/gputest"
	"github.com/gputrain/gputrain/nn"
)

// TestEarlyStoppingGPU runs early stopping on the GPU: the validation
// figures track the reference's, and the weights restored at the end are
// exactly those the GPU held after its best epoch (the copy is made and put
// back on the device, by Gather with scale 1, which is exact).
func TestEarlyStoppingGPU(t *testing.T) {
	g := gputest.Open(t)
	cfg := earlyStopCfg
	cfg.Epochs = 60
	cfg.Patience = 5
	cfg.LR, cfg.Optimizer = 0.03, nn.Adam // learns (validation loss 0.72 → 0.31) and overfits within 60 epochs
	set := noisyXOR(40, 21, 5)
	type run struct {
		h      nn.History
		params map[int][]nn.Params
		final  []nn.Params
	}
	train := func(m *nn.Model) run {
		r := run{params: map[int][]nn.Params{}}
		hooks := nn.Hooks{Epoch: func(s nn.EpochStats) {
			p, err := m.Params()
			require.NoError(t, err)
			r.params[s.Epoch] = p
		}}
		var err error
		r.h, err = nn.Train(context.Background(), m.Backend(), m, set, cfg, hooks)
		require.NoError(t, err)
		r.final, err = m.Params()
		require.NoError(t, err)
		return r
	}
	c := cpuref.New()
	rc := train(newModel(t, c, overfitSpec, 2))
	rg := train(newModel(t, g, overfitSpec, 2))
	t.Logf("reference: best epoch %d of %d; GPU: best epoch %d of %d", rc.h.BestEpoch, len(rc.h.Epochs), rg.h.BestEpoch, len(rg.h.Epochs))
	require.True(t, rg.h.StoppedEarly, "the GPU run stops early")
	require.Greater(t, rg.h.BestEpoch, 1)
	assert.Less(t, rg.h.Epochs[rg.h.BestEpoch-1].ValLoss, 0.8*rg.h.Epochs[0].ValLoss, "the model learned before it overfitted")
	assert.Equal(t, rg.params[rg.h.BestEpoch], rg.final, "the GPU restores its best epoch's weights exactly")
	assert.NotEqual(t, rg.params[len(rg.h.Epochs)], rg.final)
	n := min(len(rc.h.Epochs), len(rg.h.Epochs))
	for i := range n {
		want := rc.h.Epochs[i].ValLoss
		assert.InDelta(t, want, rg.h.Epochs[i].ValLoss, 1e-3+1e-2*want, "epoch %d validation loss", i+1)
	}
}
