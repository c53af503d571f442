package cpuref_test

import (
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/stretchr/testify/require"
)

// mat makes a rows×cols Float tensor on b holding vals (zeros if nil).
func mat(t testing.TB, b *cpuref.Backend, rows, cols int, vals ...float64) backend.Tensor {
	t.Helper()
	x, err := b.New(rows, cols, backend.Float)
	require.NoError(t, err)
	if vals != nil {
		require.NoError(t, b.WriteFloats(x, vals))
	}
	return x
}

// read returns the contents of the Float tensor x.
func read(t testing.TB, b *cpuref.Backend, x backend.Tensor) []float64 {
	t.Helper()
	v, err := b.ReadFloats(x)
	require.NoError(t, err)
	return v
}

// indices makes an n×1 Index tensor holding idx.
func indices(t testing.TB, b *cpuref.Backend, idx ...uint32) backend.Tensor {
	t.Helper()
	x, err := b.New(len(idx), 1, backend.Index)
	require.NoError(t, err)
	require.NoError(t, b.WriteIndices(x, idx))
	return x
}
