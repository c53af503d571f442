package linear_test

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
	"github.com/gputrain/gputrain/linear"
	"github.com/gputrain/gputrain/nn"
)

// TestSolveLinearDivergesWhileFinite: gradient descent with too large a
// step grows the loss geometrically; it is caught at the first logged
// iteration past 100 times the loss at x = 0 (naming the iterations since
// the previous one), or at the end when nothing is logged.
func TestSolveLinearDivergesWhileFinite(t *testing.T) {
	onBackends(t, func(t *testing.T, b backend.Backend) {
		var logged []float64
		_, err := linear.SolveLinear(context.Background(), b, classicA, classicY, 0.2, 40, 5, func(_ int, l float64) { logged = append(logged, l) })
		require.ErrorIs(t, err, nn.ErrDiverged)
		var de *nn.DivergedError
		require.ErrorAs(t, err, &de)
		t.Log(err)
		assert.Contains(t, de.What, "more than 100 times 5.66667, the loss at x = 0")
		assert.False(t, math.IsInf(de.Loss, 0) || math.IsNaN(de.Loss))
		assert.Equal(t, de.FromStep+4, de.ToStep, "the 5 iterations since the last logged one")
		for _, l := range logged {
			assert.LessOrEqual(t, l, 100*5.666666666666667, "only readings within the limit are logged")
		}

		_, err = linear.SolveLinear(context.Background(), b, classicA, classicY, 0.2, 40, 0, nil)
		require.ErrorAs(t, err, &de)
		assert.Equal(t, []int{1, 40}, []int{de.FromStep, de.ToStep}, "without logging: judged at the end")
	})
}

// TestRegressDiverges: regress's gradient descent at a learning rate past
// stability (standardised features: 2/λmax is about 1) stops with the error.
func TestRegressDiverges(t *testing.T) {
	s := lineSet(100, 3)
	_, err := linear.Regress(context.Background(), cpuref.New(), s, linear.RegressConfig{Epochs: 200, LR: 5}, nn.Hooks{})
	require.ErrorIs(t, err, nn.ErrDiverged)
	assert.Contains(t, err.Error(), "more than 100 times")
	assert.Contains(t, err.Error(), "smaller learning rate than 5")
}

func TestSolveLinearGPU(t *testing.T) {
	g := gputest.Open(t)
	// lr 0.05 for 2000 iterations goes as far as lr 0.01 for 10000, in a
	// fifth of the dispatches (still under the stability limit of ~0.07).
	x, err := linear.SolveLinear(context.Background(), g, classicA, classicY, 0.05, 2000, 1000, nil)
	require.NoError(t, err)
	want := []float64{5.0 / 7, 31.0 / 7, 7}
	assert.InDeltaSlice(t, want, x, 2e-2)
}

// onBackends runs f on the CPU reference and, in a subtest that skips
// where there is no adapter, on a GPU.
func onBackends(t *testing.T, f func(t *testing.T, b backend.Backend)) {
	t.Run("cpu", func(t *testing.T) { f(t, cpuref.New()) })
	t.Run("gpu", func(t *testing.T) { f(t, gputest.Open(t)) })
}

// pixelSet is a byte-valued binary task: 4 "pixels", bright (class 1) or
// dark (class 0) images with noise.
func pixelSet(n int, seed uint64) *nn.Set {
	rng := rand.New(rand.NewPCG(seed, 3))
	s := &nn.Set{Name: "pixels", Rows: n, Cols: 4, Classes: 2}
	for i := range n {
		c := i % 2
		for range 4 {
			v := 40 + rng.IntN(60)
			if c == 1 {
				v += 120
			}
			s.Pixels = append(s.Pixels, byte(v))
		}
		s.Labels = append(s.Labels, float64(c))
	}
	return s
}

// lineSet is y = 3·x0 - 2·x1 + 5 + small noise, with features in odd units.
func lineSet(n int, seed uint64) *nn.Set {
	rng := rand.New(rand.NewPCG(seed, 4))
	s := &nn.Set{Name: "line", Rows: n, Cols: 2}
	for range n {
		x0, x1 := 100+20*rng.NormFloat64(), 0.01*rng.NormFloat64()
		s.Features = append(s.Features, x0, x1)
		s.Labels = append(s.Labels, 3*x0-200*x1+5+0.01*rng.NormFloat64())
	}
	return s
}
