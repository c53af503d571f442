// Package testgpu is the one rule that every test needing a GPU follows:
// where no adapter opens, the test is skipped with a message saying how to
// get one, unless GPUTRAIN_REQUIRE_GPU=1 is set (as CI does), in which case
// it fails. It does not import package gpu, so that gpu's own tests can use
// it; other packages' tests open backends through gpu/gputest, built on it.
// Test code only: imported by _test.go files and gpu/gputest.
package testgpu

import (
	"io"
	"os"
	"testing"
)

// Required reports whether GPU tests must run rather than skip
// (GPUTRAIN_REQUIRE_GPU=1).
func Required() bool { return os.Getenv("GPUTRAIN_REQUIRE_GPU") == "1" }

// Device returns the adapter choice for tests: GPUTRAIN_TEST_DEVICE, or
// "any" (a hardware GPU if there is one, else a software adapter).
func Device() string {
	if d := os.Getenv("GPUTRAIN_TEST_DEVICE"); d != "" {
		return d
	}
	return "any"
}

// Open calls open and returns the backend it opened, closed when tb ends
// (an error closing fails tb). If open fails, tb ends as NoGPU says; hint
// says how to get an adapter.
func Open[B io.Closer](tb testing.TB, open func() (B, error), hint string) B {
	tb.Helper()
	b, err := open()
	if err != nil {
		NoGPU(tb, err, hint)
	}
	tb.Cleanup(func() {
		if err := b.Close(); err != nil {
			tb.Errorf("closing GPU backend: %v", err)
		}
	})
	return b
}

// NoGPU ends tb for a GPU backend that did not open with err: it fails tb
// when Required, and skips it otherwise.
func NoGPU(tb testing.TB, err error, hint string) {
	tb.Helper()
	if Required() {
		tb.Fatalf("GPUTRAIN_REQUIRE_GPU=1 but no GPU backend: %v (%s)", err, hint)
	}
	tb.Skipf("no WebGPU adapter: %v (%s; set GPUTRAIN_REQUIRE_GPU=1 to fail instead of skipping)", err, hint)
}

// Lacks ends tb on an adapter without a feature the test needs, described
// by format and args: it fails tb when Required and must (the adapter
// should have it), and skips it otherwise.
func Lacks(tb testing.TB, must bool, format string, args ...any) {
	tb.Helper()
	if Required() && must {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}
