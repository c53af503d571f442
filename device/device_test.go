package device

import (
	"errors"
	"strings"
	"testing"

	"github.com/gputrain/gputrain/gpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValid(t *testing.T) {
	for _, tt := range []struct {
		choice string
		want   bool
	}{
		{"auto", true}, {"CPU", true}, {"Software", true}, {"gl", true},
		{"", false}, {"tpu", false}, {"cpu ", false},
	} {
		assert.Equal(t, tt.want, Valid(tt.choice), "%q", tt.choice)
	}
}

// TestOpen: cpu is the reference and says so; auto is a hardware GPU or,
// where none opens, the CPU backend with the reason; an adapter kind that
// is not present is gpu.Open's error, unwrapped.
func TestOpen(t *testing.T) {
	b, why, err := Open("CPU", gpu.Options{})
	require.NoError(t, err)
	assert.Equal(t, "cpu", b.Info().Kind)
	assert.Equal(t, "--device cpu asks for the float64 CPU backend", why)
	require.NoError(t, b.Close())

	b, why, err = Open("auto", gpu.Options{})
	require.NoError(t, err)
	defer b.Close()
	if b.Info().Kind == "cpu" {
		assert.True(t, strings.HasPrefix(why, "auto: "), why)
		assert.Contains(t, why, "the CPU backend is faster than a software adapter (use --device software to run the shaders anyway)")
	} else {
		assert.Equal(t, "auto: best hardware GPU", why)
	}

	if _, err := gpu.Select(gpu.Adapters(), "metal"); errors.Is(err, gpu.ErrNoAdapter) {
		_, _, err := Open("metal", gpu.Options{})
		require.Error(t, err)
		assert.ErrorIs(t, err, gpu.ErrNoAdapter)
		assert.False(t, strings.HasPrefix(err.Error(), "--device"), "callers add the flag: %v", err)
	}
}
