package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/conformance"
	"github.com/gputrain/gputrain/conformance/verify"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/gpu"
	"github.com/gputrain/gputrain/gpu/gputest"
)

// checkJSONOut is what check --json prints.
type checkJSONOut struct {
	Device, Backend, Adapter, Driver string
	Passed, Failed                   int
	Seconds                          float64
	Checks                           []struct {
		Op       string   `json:"op"`
		Case     string   `json:"case"`
		MaxRatio *float64 `json:"max_ratio"`
		Pass     bool     `json:"pass"`
		Failures []string `json:"failures"`
	}
}

// TestCheckQuickOnAdapter runs check --quick on the test adapter (the
// software one unless GPUTRAIN_TEST_DEVICE names another): every check of
// the suite has a row, all pass, and the summary names the adapter.
func TestCheckQuickOnAdapter(t *testing.T) {
	gputest.Open(t) // skips without an adapter (fails under GPUTRAIN_REQUIRE_GPU=1)
	dev := gputest.Device()
	if dev == "any" {
		dev = "software"
	}
	code, stdout, stderr := gputrain(t, "check", "--device", dev, "--quick")
	require.Equal(t, 0, code, stderr+stdout)
	lines := strings.Split(stdout, "\n")
	require.Contains(t, lines[0], "MAX RATIO")
	for _, name := range conformance.Checks() {
		assert.Contains(t, stdout, "\n"+name+" ", "a row for %s", name)
	}
	assert.NotContains(t, stdout, "FAIL")
	assert.Regexp(t, `quick check: \d+ passed, 0 failed on .+ \(API (vulkan|gl|metal|dx12), driver .+\) in [0-9.]+ s`, stdout)
	assert.Contains(t, stderr, "device: gpu")
}

func TestCheckJSON(t *testing.T) {
	code, stdout, stderr := gputrain(t, "check", "--device", "cpu", "--quick", "--json")
	require.Equal(t, 0, code, stderr)
	var out checkJSONOut
	require.NoError(t, json.Unmarshal([]byte(stdout), &out), stdout)
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &raw))
	for _, k := range []string{"device", "backend", "adapter", "driver", "passed", "failed", "seconds", "checks"} {
		assert.Contains(t, raw, k)
	}
	assert.Equal(t, "cpu", out.Device)
	assert.Zero(t, out.Failed)
	assert.Equal(t, len(out.Checks), out.Passed)
	ops := map[string]bool{}
	for _, c := range out.Checks {
		ops[c.Op] = true
		require.NotNil(t, c.MaxRatio, c.Op)
		assert.Zero(t, *c.MaxRatio, "the reference against itself")
		assert.True(t, c.Pass)
	}
	for _, name := range conformance.Checks() {
		assert.True(t, ops[name], name)
	}
	assert.Contains(t, stderr, "the CPU backend is the reference itself")
}

// brokenMatMul is the reference with every product off by 1e-3 relative:
// a plausible kernel bug.
type brokenMatMul struct{ *cpuref.Backend }

func (b brokenMatMul) MatMul(c, x, y backend.Tensor, ta, tb bool) {
	b.Backend.MatMul(c, x, y, ta, tb)
	d := c.(*cpuref.Tensor).Data()
	for i := range d {
		d[i] *= 1 + 1e-3
	}
}

func useBroken(t *testing.T) {
	t.Helper()
	old := openCheck
	openCheck = func(string) (backend.Backend, string, error) {
		return brokenMatMul{cpuref.New()}, "a deliberately broken backend", nil
	}
	t.Cleanup(func() { openCheck = old })
}

// TestCheckFailsOnBrokenBackend: on a backend whose matmul is off by
// 1e-3, check exits 1 and names the op, the case, the element, got, want
// and bound, in the table, the error and the JSON.
func TestCheckFailsOnBrokenBackend(t *testing.T) {
	useBroken(t)
	code, stdout, stderr := gputrain(t, "check", "--device", "cpu", "--quick")
	require.Equal(t, 1, code, stderr)
	assert.Regexp(t, `MatMul +37x129x65/transA=false/transB=false +\d+\.\d+ +FAIL\n +matmul: element \d+ = .+, want .+ exceeds bound`, stdout)
	assert.Regexp(t, `Fill +300x301 +0\.000 +pass`, stdout, "other ops still pass")
	assert.Regexp(t, `quick check: \d+ passed, [1-9]\d* failed`, stdout)
	assert.Regexp(t, `gputrain check: \d+ of \d+ cases failed on .*; first: MatMul 37x129x65/transA=false/transB=false: matmul: element \d+ = .*want .*bound`, stderr)
	assert.NotContains(t, stderr, "goroutine")

	code, stdout, stderr = gputrain(t, "check", "--device", "cpu", "--quick", "--json")
	require.Equal(t, 1, code, stderr)
	var out checkJSONOut
	require.NoError(t, json.Unmarshal([]byte(stdout), &out), stdout)
	assert.Positive(t, out.Failed)
	failed := map[string]bool{}
	for _, c := range out.Checks {
		if !c.Pass {
			failed[c.Op] = true
			require.NotEmpty(t, c.Failures)
		}
	}
	assert.True(t, failed["MatMul"])
	assert.True(t, failed["TrainingRun"], "the training run sees the bad products too")
	assert.False(t, failed["Fill"])
}

// TestCheckInterrupted: a cancelled context (Ctrl-C, SIGTERM) stops check
// before the next case, with status 130.
func TestCheckInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, stdout, stderr := gputrainCtx(t, ctx, "check", "--device", "cpu")
	assert.Equal(t, 130, code, stderr)
	assert.Contains(t, stderr, "interrupted after 0 cases")
	assert.NotContains(t, stdout, "pass")
}

func TestCheckUsage(t *testing.T) {
	for _, args := range [][]string{{"check", "extra"}, {"check", "--device", "tpu"}, {"check", "--fast"}} {
		code, _, stderr := gputrain(t, args...)
		assert.Equal(t, 2, code, stderr)
	}
}

// withVerifier makes train and bench verify with v for one test.
func withVerifier(t *testing.T, v verify.Verifier) {
	t.Helper()
	old := verifierFor
	verifierFor = func() verify.Verifier { return v }
	t.Cleanup(func() { verifierFor = old })
}

// everything is a Hardware seam that verifies any device: the CPU
// backend stands in for a hardware adapter, which this machine lacks.
func everything(backend.Info) bool { return true }

// TestVerifyOnFirstUse: the first train on a "hardware" device (the CPU
// backend, through the Hardware seam) runs the quick check and records it,
// the second reads the record, and GPUTRAIN_CHECK_CACHE-style files hold
// one verdict.
func TestVerifyOnFirstUse(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "checks.json")
	withVerifier(t, verify.Verifier{Cache: cache, Hardware: everything})
	code, _, stderr := gputrain(t, append([]string{"--device", "cpu"}, small...)...)
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `check:  verified \(the quick check passed \d+ cases in [0-9.]+ s; recorded in `+cache, stderr)
	require.FileExists(t, cache)
	first, err := os.ReadFile(cache)
	require.NoError(t, err)

	code, _, stderr = gputrain(t, append([]string{"--device", "cpu"}, small...)...)
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `check:  verified \(the quick check passed \d+ cases on \d{4}-\d\d-\d\d`, stderr, "the cache hit skips the check")
	again, err := os.ReadFile(cache)
	require.NoError(t, err)
	assert.Equal(t, string(first), string(again), "nothing re-recorded")

	code, _, stderr = gputrain(t, "bench", "--device", "cpu", "--batch", "8", "--hidden", "8", "--data", "random", "--steps", "2", "--reps", "1")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "check:  verified (the quick check passed")
}

// TestVerifyFailureStops: a failing quick check stops train and bench
// before any step, naming the op and --verify=false; --verify=false runs
// without checking.
func TestVerifyFailureStops(t *testing.T) {
	runs := 0
	withVerifier(t, verify.Verifier{Hardware: everything, Check: func(backend.Backend) []conformance.Result {
		runs++
		return []conformance.Result{{Op: "MatMul", Case: "64x64x64/transA=true/transB=false", Compared: 1, MaxRatio: 12,
			Failures: []string{"matmul: element 17 = 3.25, want 3.5: |error| 0.25 exceeds bound 0.02 (12.00x)"}}}
	}})
	for _, args := range [][]string{
		append([]string{"train", "--device", "cpu"}, small...),
		{"bench", "--device", "cpu", "--batch", "8", "--data", "random", "--steps", "2", "--reps", "1"},
		{"bench", "--device", "cpu", "--preset", "seed", "--steps", "2"},
	} {
		t.Run(args[0]+" "+args[len(args)-1], func(t *testing.T) {
			code, stdout, stderr := gputrain(t, args...)
			require.Equal(t, 1, code, stderr)
			assert.Contains(t, stderr, "MatMul 64x64x64/transA=true/transB=false: matmul: element 17")
			assert.Contains(t, stderr, "--verify=false")
			assert.Contains(t, stderr, "gputrain check --device cpu")
			assert.NotContains(t, stderr, "epoch 1", "no training")
			assert.Empty(t, stdout)

			before := runs
			code, _, stderr = gputrain(t, append(args, "--verify=false")...)
			require.Equal(t, 0, code, stderr)
			assert.NotContains(t, stderr, "check:", "the CPU backend gets no verdict line")
			assert.Equal(t, before, runs, "--verify=false runs no check")
		})
	}
}

var gputestSoftware = gpu.Options{Device: "software"}

// TestVerifyLeavesSoftwareAlone: with the real Hardware rule, a software
// adapter trains unverified without a check and without a record, and the
// banner says so, as it does with --verify=false.
func TestVerifyLeavesSoftwareAlone(t *testing.T) {
	gputest.OpenWith(t, gputestSoftware)
	cache := filepath.Join(t.TempDir(), "checks.json")
	runs := 0
	withVerifier(t, verify.Verifier{Cache: cache, Check: func(backend.Backend) []conformance.Result { runs++; return nil }})
	code, _, stderr := gputrain(t, append([]string{"--device", "software"}, small...)...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "check:  not verified (a software adapter is not checked on first use")
	assert.Zero(t, runs)
	assert.NoFileExists(t, cache)

	code, _, stderr = gputrain(t, append([]string{"--device", "software", "--verify=false"}, small...)...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "check:  not verified (--verify=false)")
}
