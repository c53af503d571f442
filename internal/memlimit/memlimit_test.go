package memlimit

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBudgetHonoursGoMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(1 << 40)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	b, _ := Budget()
	debug.SetMemoryLimit(512 << 20)
	small, src := Budget()
	assert.LessOrEqual(t, small, uint64(512<<20))
	assert.LessOrEqual(t, small, b)
	assert.Equal(t, "the Go memory limit, GOMEMLIMIT", src)

	err := Check("a model of 900000000 parameters", 7<<30)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrTooLarge))
	var me *Error
	require.True(t, errors.As(err, &me))
	assert.Equal(t, uint64(7<<30), me.Need)
	assert.Contains(t, err.Error(), "a model of 900000000 parameters needs about 7.5 GB of memory, more than the")
	assert.Contains(t, err.Error(), "GOMEMLIMIT")
	assert.NoError(t, Check("a small thing", 1<<10))
}

func TestMeminfo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "meminfo")
	require.NoError(t, os.WriteFile(p, []byte("MemTotal:       24000000 kB\nMemAvailable:    1000 kB\nOther: x\n"), 0o644))
	v, ok := meminfo(p, "MemAvailable")
	assert.True(t, ok)
	assert.Equal(t, uint64(1000*1024), v)
	_, ok = meminfo(p, "Other")
	assert.False(t, ok)
	_, ok = meminfo(p, "Absent")
	assert.False(t, ok)
}

func TestArithmeticSaturates(t *testing.T) {
	tests := []struct {
		name      string
		got, want uint64
	}{
		{"mul", Mul(3, 4), 12},
		{"mul overflow", Mul(math.MaxUint64/2, 3), math.MaxUint64},
		{"mul zero", Mul(0, math.MaxUint64), 0},
		{"add", Add(3, 4), 7},
		{"add overflow", Add(math.MaxUint64, 1), math.MaxUint64},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.got, tt.name)
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 999: "999 B", 1500: "1.5 kB", 17_100_000_000: "17.1 GB", math.MaxUint64: "more than 18 EB"} {
		assert.Equal(t, want, Bytes(n), n)
	}
}
