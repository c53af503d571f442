package fit_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/fit"
	"github.com/gputrain/gputrain/gpu/gputest"
)

// TestGPUMatchesCPU: the same data and options train the same classifier
// on the GPU (float32) as on the CPU reference (float64), to float32's
// accuracy, and both predict the same classes.
func TestGPUMatchesCPU(t *testing.T) {
	g := gputest.Open(t)
	defer g.Close()
	c := cpuref.New()
	defer c.Close()
	d := blobs(t)
	x := [][]float64{{0.1, 0.2}, {4.5, 0.5}, {0.9, 0.8}, {4, 0}}
	var preds []fit.Predictions
	for _, b := range []backend.Backend{c, g} {
		opt := fit.Defaults(d)
		opt.Epochs, opt.Backend = 5, b
		m, err := fit.Train(context.Background(), d, &opt)
		require.NoError(t, err)
		p, err := m.Predict(x)
		m.Close()
		require.NoError(t, err)
		preds = append(preds, p)
	}
	assert.Equal(t, preds[0].Classes, preds[1].Classes)
	for i := range x {
		assert.InDelta(t, preds[0].Probs[i][1], preds[1].Probs[i][1], 1e-3, "row %d", i)
	}
}
