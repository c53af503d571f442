package verify

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/conformance"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/internal/usercache"
)

// fakeGPU is the reference backend describing itself as a GPU adapter.
type fakeGPU struct {
	*cpuref.Backend
	info backend.Info
}

func (f fakeGPU) Info() backend.Info { return f.info }

var (
	hardware = backend.Info{Kind: "gpu", API: "vulkan", Adapter: "Test GPU 9000", AdapterType: "discrete", Driver: "test driver 1.0", Precision: "float32"}
	software = backend.Info{Kind: "gpu", API: "vulkan", Adapter: "llvmpipe", AdapterType: "cpu", Driver: "llvmpipe", Precision: "float32"}
)

// counting returns a Check that counts its runs and returns res.
func counting(n *int, res ...conformance.Result) func(backend.Backend) []conformance.Result {
	return func(backend.Backend) []conformance.Result { *n++; return res }
}

var (
	pass = conformance.Result{Op: "MatMul", Case: "3x5x7", Pass: true, Compared: 1, MaxRatio: 0.1}
	fail = conformance.Result{Op: "BiasActivate", Case: "sigmoid/33x257", MaxRatio: 3.5, Compared: 1,
		Failures: []string{"bias_act sigmoid: element 7 = 0.5, want 0.4: |error| 0.1 exceeds bound 0.03 (3.50x)"}}
)

func TestNotHardwareIsNotChecked(t *testing.T) {
	n := 0
	v := Verifier{Cache: filepath.Join(t.TempDir(), "checks.json"), Check: counting(&n, pass)}
	for _, info := range []backend.Info{software, cpuref.New().Info()} {
		out, err := v.Verify(fakeGPU{cpuref.New(), info})
		require.NoError(t, err)
		assert.False(t, out.Verified)
		assert.NotEmpty(t, out.Skipped)
		assert.Contains(t, out.String(), "not verified")
	}
	assert.Zero(t, n, "no check on a software adapter or the CPU")
	assert.NoFileExists(t, v.Cache)
	assert.False(t, IsHardware(software))
	assert.True(t, IsHardware(hardware))
}

// TestCacheHitSkipsTheCheck: the first Verify of a hardware adapter runs
// the check and records a pass; the second reads it; another driver, or
// another shader set, is checked again.
func TestCacheHitSkipsTheCheck(t *testing.T) {
	n := 0
	v := Verifier{Cache: filepath.Join(t.TempDir(), "sub", "checks.json"), Check: counting(&n, pass, pass)}
	b := fakeGPU{cpuref.New(), hardware}
	out, err := v.Verify(b)
	require.NoError(t, err)
	assert.True(t, out.Verified)
	assert.False(t, out.Cached)
	assert.Equal(t, 1, n)
	assert.Equal(t, 2, out.Entry.Cases)
	assert.Contains(t, out.String(), "verified (the quick check passed 2 cases")
	assert.Contains(t, out.String(), v.Cache)
	assert.FileExists(t, v.Cache)

	out, err = v.Verify(b)
	require.NoError(t, err)
	assert.True(t, out.Verified)
	assert.True(t, out.Cached)
	assert.Equal(t, 1, n, "a recorded verdict is not checked again")
	assert.Empty(t, out.Note)

	other := hardware
	other.Driver = "test driver 2.0"
	out, err = v.Verify(fakeGPU{cpuref.New(), other})
	require.NoError(t, err)
	assert.False(t, out.Cached)
	assert.Equal(t, 2, n, "a new driver is checked")

	f, err := read(v.Cache)
	require.NoError(t, err)
	assert.Len(t, f.Entries, 2, "both verdicts kept")
	for i := range f.Entries {
		f.Entries[i].Shaders = "edited"
	}
	require.NoError(t, usercache.WriteJSON(v.Cache, f))
	_, err = v.Verify(b)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "a verdict for other shaders does not count")
}

// TestFailureStops: a failing check returns a FailedError naming the op,
// the case and the element, and records it, so that the next run stops
// without checking again.
func TestFailureStops(t *testing.T) {
	n := 0
	v := Verifier{Cache: filepath.Join(t.TempDir(), "checks.json"), Check: counting(&n, pass, fail, fail)}
	b := fakeGPU{cpuref.New(), hardware}
	out, err := v.Verify(b)
	var fe *FailedError
	require.True(t, errors.As(err, &fe), "%v", err)
	assert.False(t, out.Verified)
	assert.False(t, fe.Cached)
	for _, want := range []string{"Test GPU 9000", "test driver 1.0", "2 of 3 cases failed", "BiasActivate sigmoid/33x257", "element 7", "exceeds bound"} {
		assert.Contains(t, err.Error(), want)
	}

	_, err = v.Verify(b)
	require.True(t, errors.As(err, &fe), "%v", err)
	assert.True(t, fe.Cached)
	assert.Equal(t, 1, n, "the recorded failure stops the run without a new check")
	assert.Contains(t, err.Error(), "BiasActivate sigmoid/33x257")
	assert.Contains(t, err.Error(), v.Cache)
}

func TestNoCacheChecksEveryTime(t *testing.T) {
	n := 0
	v := Verifier{Check: counting(&n, pass)}
	for range 2 {
		out, err := v.Verify(fakeGPU{cpuref.New(), hardware})
		require.NoError(t, err)
		assert.True(t, out.Verified)
		assert.NotContains(t, out.String(), "recorded")
	}
	assert.Equal(t, 2, n)
}

func TestBadCacheFiles(t *testing.T) {
	dir := t.TempDir()
	n := 0
	corrupt := filepath.Join(dir, "corrupt.json")
	require.NoError(t, os.WriteFile(corrupt, []byte("{not json"), 0o644))
	v := Verifier{Cache: corrupt, Check: counting(&n, pass)}
	out, err := v.Verify(fakeGPU{cpuref.New(), hardware})
	require.NoError(t, err)
	assert.True(t, out.Verified)
	assert.Contains(t, out.Note, "corrupt.json")
	f, err := read(corrupt)
	require.NoError(t, err, "rewritten")
	assert.Len(t, f.Entries, 1)

	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	v.Cache = filepath.Join(blocker, "checks.json") // a folder that is a file
	out, err = v.Verify(fakeGPU{cpuref.New(), hardware})
	require.NoError(t, err, "an unwritable cache does not fail the run")
	assert.True(t, out.Verified)
	assert.Contains(t, out.Note, "not saved")
}

// TestDefaultCheckRunsTheQuickSuite runs the real quick suite through a
// Verifier whose Hardware seam accepts the CPU reference.
func TestDefaultCheckRunsTheQuickSuite(t *testing.T) {
	v := Verifier{Cache: filepath.Join(t.TempDir(), "checks.json"), Hardware: func(backend.Info) bool { return true }}
	out, err := v.Verify(cpuref.New())
	require.NoError(t, err)
	assert.True(t, out.Verified)
	assert.Greater(t, out.Entry.Cases, 50)
}

func TestDefaultCache(t *testing.T) {
	t.Setenv("GPUTRAIN_CHECK_CACHE", "/x/checks.json")
	assert.Equal(t, "/x/checks.json", DefaultCache())
	t.Setenv("GPUTRAIN_CHECK_CACHE", "off")
	assert.Empty(t, DefaultCache())
}

func TestNVIDIADriverVersion(t *testing.T) {
	f := filepath.Join(t.TempDir(), "version")
	require.NoError(t, os.WriteFile(f, []byte("550.54.15\n"), 0o644))
	old := nvidiaVersionFile
	nvidiaVersionFile = f
	t.Cleanup(func() { nvidiaVersionFile = old })
	nv := hardware
	nv.Adapter, nv.Driver = "NVIDIA H200", "NVIDIA H200"
	assert.Equal(t, "550.54.15", KeyOf(nv).DriverVersion)
	assert.Empty(t, KeyOf(hardware).DriverVersion, "not an NVIDIA adapter")

	// A new driver is a new fingerprint: checked again.
	n := 0
	v := Verifier{Cache: filepath.Join(t.TempDir(), "checks.json"), Check: counting(&n, pass)}
	_, err := v.Verify(fakeGPU{cpuref.New(), nv})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(f, []byte("555.42.02\n"), 0o644))
	out, err := v.Verify(fakeGPU{cpuref.New(), nv})
	require.NoError(t, err)
	assert.False(t, out.Cached)
	assert.Equal(t, 2, n)
}
