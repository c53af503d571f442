package gpu_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/gpu"
	"github.com/gputrain/gputrain/gpu/gputest"
	"github.com/gputrain/gputrain/internal/testgpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openTimed opens the test adapter with timestamps. An adapter without
// timestamp queries fails the test where GPU tests are required (lavapipe,
// which CI uses, has them) and skips it elsewhere.
func openTimed(t *testing.T) *gpu.Backend {
	t.Helper()
	b := gputest.OpenWith(t, gpu.Options{Device: gputest.Device(), Timestamps: true})
	if !b.Timestamps() {
		testgpu.Lacks(t, true, "adapter %s (%s) has no timestamp queries", b.Adapter().Name, b.Adapter().API)
	}
	return b
}

// timedMatmuls runs reps products of n×n matrices between a reset and a
// Sync, and returns the kernel time and the wall time of the synced work.
func timedMatmuls(t *testing.T, b *gpu.Backend, n, reps int) (kernel, wall time.Duration) {
	t.Helper()
	x, err := b.New(n, n, backend.Float)
	require.NoError(t, err)
	y, err := b.New(n, n, backend.Float)
	require.NoError(t, err)
	z, err := b.New(n, n, backend.Float)
	require.NoError(t, err)
	defer func() { b.Free(x); b.Free(y); b.Free(z) }()
	b.Fill(x, 0.5)
	b.Fill(y, 0.25)
	b.MatMul(z, x, y, false, false) // compiles the pipeline outside the timed work
	require.NoError(t, b.Sync())

	b.ResetKernelTime()
	start := time.Now()
	for range reps {
		b.MatMul(z, x, y, false, false)
	}
	require.NoError(t, b.Sync())
	wall = time.Since(start)
	kernel, ok := b.KernelTime()
	require.True(t, ok)
	got, err := b.ReadFloats(z)
	require.NoError(t, err)
	require.InDelta(t, 0.125*float64(n), got[0], 1e-3, "the timed work computed the product")
	return kernel, wall
}

// TestKernelTime checks that timed work reports a kernel time that is
// positive, no longer than the wall time of the synced work, and growing
// with the work. On a software adapter, where the host waits on little but
// the kernels, the longest work's kernel time must also be most of its wall
// time: a wrong tick period (10 or 40 ns a tick, say) would fail one of the
// two bounds.
func TestKernelTime(t *testing.T) {
	b := openTimed(t)
	used, measured := b.TimestampPeriod()
	t.Logf("%s: timestamp period %g ns/tick (measured %.4g)", b.Adapter().Name, used, measured)
	tests := []struct {
		name    string
		n, reps int
	}{
		{"one small product", 32, 1},
		{"two products", 128, 2},
		{"sixteen products", 128, 16},
	}
	var prev time.Duration
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kernel, wall := timedMatmuls(t, b, tt.n, tt.reps)
			t.Logf("kernel %v, wall %v", kernel, wall)
			assert.Positive(t, kernel)
			assert.LessOrEqual(t, kernel, wall, "kernel time is part of the wall time")
			assert.Greater(t, kernel, prev, "more work, more kernel time")
			if i == len(tests)-1 && b.Adapter().Software() {
				assert.Greater(t, kernel, wall/2, "a software adapter's long work is mostly kernel time")
			}
			prev = kernel
		})
	}
}

// TestKernelTimeExcludesHostTime checks that time the host spends between
// submits does not count: two tiny passes with a 100 ms sleep between them
// take far less than 100 ms of kernel time.
func TestKernelTimeExcludesHostTime(t *testing.T) {
	b := openTimed(t)
	x, err := b.New(4, 4, backend.Float)
	require.NoError(t, err)
	b.Fill(x, 1)
	require.NoError(t, b.Sync())
	b.ResetKernelTime()
	passes := b.Stats().TimedPasses
	start := time.Now()
	b.Fill(x, 2)
	_, err = b.ReadFloats(x) // submits and waits
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	b.Fill(x, 3)
	require.NoError(t, b.Sync())
	wall := time.Since(start)
	kernel, ok := b.KernelTime()
	require.True(t, ok)
	t.Logf("kernel %v, wall %v", kernel, wall)
	assert.Positive(t, kernel)
	assert.Less(t, kernel, 50*time.Millisecond)
	assert.GreaterOrEqual(t, wall, 100*time.Millisecond)
	assert.Equal(t, uint64(2), b.Stats().TimedPasses-passes, "one timed pass a submit")
}

// TestResetKernelTime checks that work recorded before a reset is not
// counted, even when its timestamps are read after it.
func TestResetKernelTime(t *testing.T) {
	b := openTimed(t)
	x, err := b.New(64, 64, backend.Float)
	require.NoError(t, err)
	for range 10 {
		b.Fill(x, 1)
	}
	b.ResetKernelTime() // the ten fills are recorded, not yet submitted
	require.NoError(t, b.Sync())
	kernel, ok := b.KernelTime()
	require.True(t, ok)
	assert.Zero(t, kernel)

	b.Fill(x, 2)
	require.NoError(t, b.Sync())
	kernel, ok = b.KernelTime()
	require.True(t, ok)
	assert.Positive(t, kernel)
}

// TestKernelTimeOff checks that a backend opened without timestamps
// reports the time unavailable and records no timed pass.
func TestKernelTimeOff(t *testing.T) {
	b := gputest.Open(t)
	x, err := b.New(8, 8, backend.Float)
	require.NoError(t, err)
	b.Fill(x, 1)
	b.ResetKernelTime() // a no-op
	require.NoError(t, b.Sync())
	kernel, ok := b.KernelTime()
	assert.False(t, ok)
	assert.Zero(t, kernel)
	assert.False(t, b.Timestamps())
	used, measured := b.TimestampPeriod()
	assert.Zero(t, used+measured)
	assert.Zero(t, b.Stats().TimedPasses)
	assert.Zero(t, b.Stats().TimestampReads)
}

// TestKernelTimeGL opens the GL adapter, which has no timestamp queries,
// with timestamps asked for: it opens, runs work and reports the time
// unavailable, without an error. Machines without a GL adapter (CI installs
// only the Vulkan driver) skip it; TestTimestampFeatureMissing covers the
// same path on any adapter.
func TestKernelTimeGL(t *testing.T) {
	b, err := gpu.Open(gpu.Options{Device: "gl", Timestamps: true})
	if errors.Is(err, gpu.ErrNoAdapter) {
		t.Skipf("no GL adapter: %v", err)
	}
	require.NoError(t, err)
	defer func() { require.NoError(t, b.Close()) }()
	x, err := b.New(8, 8, backend.Float)
	require.NoError(t, err)
	b.Fill(x, 1)
	require.NoError(t, b.Sync())
	got, err := b.ReadFloats(x)
	require.NoError(t, err)
	assert.Equal(t, 1.0, got[0])
	kernel, ok := b.KernelTime()
	assert.False(t, ok, "GL adapter %s reports kernel time", b.Adapter().Name)
	assert.Zero(t, kernel)
	assert.False(t, b.Timestamps())
}

// TestAdapterReportsTimestamps: Adapter.Timestamps (what `gputrain devices`
// shows) tells beforehand whether Options.Timestamps will time kernels.
func TestAdapterReportsTimestamps(t *testing.T) {
	b := gputest.OpenWith(t, gpu.Options{Device: gputest.Device(), Timestamps: true})
	assert.Equal(t, b.Adapter().Timestamps, b.Timestamps(), "adapter %s (%s)", b.Adapter().Name, b.Adapter().API)
}
