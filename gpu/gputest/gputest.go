// Package gputest opens a GPU backend for tests. Where no WebGPU adapter
// exists the test is skipped with a message that says how to get one, unless
// GPUTRAIN_REQUIRE_GPU=1 is set (as CI does), in which case it fails.
package gputest

import (
	"os"
	"testing"

	"github.com/gputrain/gputrain/gpu"
)

// Device returns the adapter choice for tests: GPUTRAIN_TEST_DEVICE, or
// "any" (a hardware GPU if there is one, else a software adapter).
func Device() string {
	if d := os.Getenv("GPUTRAIN_TEST_DEVICE"); d != "" {
		return d
	}
	return "any"
}

// Required reports whether GPU tests must run rather than skip.
func Required() bool { return os.Getenv("GPUTRAIN_REQUIRE_GPU") == "1" }

// Open opens a GPU backend on Device() and closes it when tb ends. Without
// an adapter it skips tb (or fails it when Required()).
func Open(tb testing.TB) *gpu.Backend {
	tb.Helper()
	return OpenWith(tb, gpu.Options{Device: Device()})
}

// OpenWith is Open with explicit options.
func OpenWith(tb testing.TB, opts gpu.Options) *gpu.Backend {
	tb.Helper()
	b, err := gpu.Open(opts)
	if err != nil {
		if Required() {
			tb.Fatalf("GPUTRAIN_REQUIRE_GPU=1 but no GPU backend: %v (%s)", err, gpu.InstallHint)
		}
		tb.Skipf("no WebGPU adapter: %v (%s; set GPUTRAIN_REQUIRE_GPU=1 to fail instead of skipping)", err, gpu.InstallHint)
	}
	tb.Cleanup(func() {
		if err := b.Close(); err != nil {
			tb.Errorf("closing GPU backend: %v", err)
		}
	})
	return b
}
