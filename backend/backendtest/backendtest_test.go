package backendtest_test

import (
	"testing"

	"github.com/gputrain/gputrain/backend/backendtest"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/stretchr/testify/assert"
)

// TestReferenceAgainstItself runs the suite on the reference: it must pass
// with zero error, which proves the suite runs end to end.
func TestReferenceAgainstItself(t *testing.T) {
	backendtest.All(t, cpuref.New())
}

// TestCompareCatchesErrors checks that the comparison would catch a kernel
// off by more than its bound, and a NaN.
func TestCompareCatchesErrors(t *testing.T) {
	want := []float64{1, 2, 3}
	bound := func(int) float64 { return 1e-6 }
	_, ok := backendtest.Compare("x", []float64{1, 2, 3 + 1e-7}, want, bound)
	assert.True(t, ok)
	m, ok := backendtest.Compare("x", []float64{1, 2.001, 3}, want, bound)
	assert.False(t, ok)
	assert.Equal(t, 1, m.Index)
	assert.Contains(t, m.Error(), "exceeds bound")
	_, ok = backendtest.Compare("x", []float64{1, 2, nan()}, want, bound)
	assert.False(t, ok)
	_, ok = backendtest.Compare("x", []float64{1, 2}, want, bound)
	assert.False(t, ok)
}

func nan() float64 { z := 0.0; return z / z }
