package gpu_test

import (
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/gpu/gputest"
	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	b := gputest.Open(t)
	t.Log(b.Info())
	a, err := b.New(2, 3, backend.Float)
	require.NoError(t, err)
	w, err := b.New(3, 2, backend.Float)
	require.NoError(t, err)
	c, err := b.New(2, 2, backend.Float)
	require.NoError(t, err)
	require.NoError(t, b.WriteFloats(a, []float64{1, 2, 3, 4, 5, 6}))
	require.NoError(t, b.WriteFloats(w, []float64{1, 0, 0, 1, 1, 1}))
	b.MatMul(c, a, w, false, false)
	got, err := b.ReadFloats(c)
	require.NoError(t, err)
	require.Equal(t, []float64{4, 5, 10, 11}, got)
}
