// Package gputest opens a GPU backend for tests, by the rule of package
// internal/testgpu: where no WebGPU adapter exists the test is skipped with
// a message that says how to get one, unless GPUTRAIN_REQUIRE_GPU=1 is set
// (as CI does), in which case it fails.
package gputest

import (
	"testing"

	"github.com/gputrain/gputrain/gpu"
	"github.com/gputrain/gputrain/internal/testgpu"
)

// Device returns the adapter choice for tests: GPUTRAIN_TEST_DEVICE, or
// "any" (a hardware GPU if there is one, else a software adapter).
func Device() string { return testgpu.Device() }

// Required reports whether GPU tests must run rather than skip.
func Required() bool { return testgpu.Required() }

// Open opens a GPU backend on Device() and closes it when tb ends. Without
// an adapter it skips tb (or fails it when Required()).
func Open(tb testing.TB) *gpu.Backend {
	tb.Helper()
	return OpenWith(tb, gpu.Options{Device: Device()})
}

// OpenWith is Open with explicit options.
func OpenWith(tb testing.TB, opts gpu.Options) *gpu.Backend {
	tb.Helper()
	return testgpu.Open(tb, func() (*gpu.Backend, error) { return gpu.Open(opts) }, gpu.InstallHint)
}
