package gpu_test

import (
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/gpu/gputest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCompensationSurvivesTheCompiler adds an update far below float32's
// resolution at 1.0 a thousand times. Plain float32 loses every one; the
// compensated sum must keep them. This fails if a shader compiler
// reassociates the compensation away (Mesa does, unless prevented).
func TestCompensationSurvivesTheCompiler(t *testing.T) {
	b := gputest.Open(t)
	w, _ := b.New(1, 1, backend.Float)
	g, _ := b.New(1, 1, backend.Float)
	c, _ := b.New(1, 1, backend.Float)
	require.NoError(t, b.WriteFloats(w, []float64{1}))
	require.NoError(t, b.WriteFloats(g, []float64{-1e-8}))
	lr, err := backend.NewHP(b, 1, backend.SGDHP(1))
	require.NoError(t, err)
	for i := 0; i < 1000; i++ {
		b.SGDCompensated(w, g, c, lr)
	}
	wv, err := b.ReadFloats(w)
	require.NoError(t, err)
	cv, err := b.ReadFloats(c)
	require.NoError(t, err)
	// 1000 updates of 1e-8 (as float32: 9.99999994e-9) add 1e-5.
	assert.InDelta(t, 1+1e-5, wv[0]-cv[0], 2e-7, "w=%v c=%v", wv[0], cv[0])
}
