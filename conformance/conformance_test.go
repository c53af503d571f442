package conformance_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gputrain/gputrain/conformance"
	"github.com/gputrain/gputrain/conformance/conformancetest"
	"github.com/gputrain/gputrain/cpuref"
)

// TestReferenceAgainstItself runs the suite on the reference: it must pass
// with zero error, which proves the suite runs end to end.
func TestReferenceAgainstItself(t *testing.T) {
	conformancetest.All(t, cpuref.New())
}

func TestCompare(t *testing.T) {
	want := []float64{1, 2, 3}
	bound := func(int) float64 { return 1e-6 }
	tests := []struct {
		name  string
		got   []float64
		want  []float64
		ok    bool
		index int
	}{
		{"within", []float64{1, 2, 3 + 1e-7}, want, true, 2},
		{"exceeds", []float64{1, 2.001, 3}, want, false, 1},
		{"nan", []float64{1, 2, math.NaN()}, want, false, 2},
		{"nan against nan", []float64{math.NaN()}, []float64{math.NaN()}, true, 0},
		{"equal infinities", []float64{math.Inf(1)}, []float64{math.Inf(1)}, true, 0},
		{"infinity against number", []float64{math.Inf(1)}, []float64{1}, false, 0},
		{"length", []float64{1, 2}, want, false, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := conformance.Compare("x", tc.got, tc.want, bound)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.index, m.Index)
			if !ok && tc.index >= 0 {
				assert.Contains(t, m.Error(), "exceeds bound")
			}
		})
	}
	m, ok := conformance.Compare("x", []float64{1}, []float64{1}, func(int) float64 { return 0 })
	assert.True(t, ok, "an exact bound accepts equal values")
	assert.Zero(t, m.WorstRatio)
	_, ok = conformance.Compare("x", []float64{1 + 1e-15}, []float64{1}, func(int) float64 { return 0 })
	assert.False(t, ok, "an exact bound rejects any difference")
}
