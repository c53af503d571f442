package testgpu

import (
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

// fakeTB records how a test would end; Fatalf and Skipf end the goroutine
// as testing's do.
type fakeTB struct {
	testing.TB
	fatal, skip, errs string
	cleanups          []func()
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Cleanup(fn func())                 { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Errorf(format string, args ...any) { f.errs += fmt.Sprintf(format, args...) }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// inGoroutine runs fn where Goexit ends only fn.
func inGoroutine(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

type closer struct {
	closed bool
	err    error
}

func (c *closer) Close() error { c.closed = true; return c.err }

func TestOpen(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name              string
		require           string
		openErr, closeErr error
		fatal, skip, errs string
		opened            bool
	}{
		{name: "no adapter", openErr: boom, skip: "no WebGPU adapter: boom (the hint; set GPUTRAIN_REQUIRE_GPU=1 to fail instead of skipping)"},
		{name: "no adapter, required", require: "1", openErr: boom, fatal: "GPUTRAIN_REQUIRE_GPU=1 but no GPU backend: boom (the hint)"},
		{name: "opened", require: "1", opened: true},
		{name: "close fails", opened: true, closeErr: boom, errs: "closing GPU backend: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GPUTRAIN_REQUIRE_GPU", tt.require)
			f := &fakeTB{}
			c := &closer{err: tt.closeErr}
			var got *closer
			inGoroutine(func() {
				got = Open(f, func() (*closer, error) { return c, tt.openErr }, "the hint")
			})
			assert.Equal(t, tt.fatal, f.fatal)
			assert.Equal(t, tt.skip, f.skip)
			if !tt.opened {
				assert.Nil(t, got)
				assert.Empty(t, f.cleanups, "nothing to close")
				return
			}
			assert.Same(t, c, got)
			assert.False(t, c.closed, "open until the test ends")
			for _, fn := range f.cleanups {
				fn()
			}
			assert.True(t, c.closed)
			assert.Equal(t, tt.errs, f.errs)
		})
	}
}

func TestLacks(t *testing.T) {
	for _, tt := range []struct {
		require     string
		must        bool
		fatal, skip string
	}{
		{"1", true, "no timestamps on x", ""},
		{"1", false, "", "no timestamps on x"},
		{"", true, "", "no timestamps on x"},
		{"0", true, "", "no timestamps on x"},
	} {
		t.Run(fmt.Sprintf("require=%q must=%v", tt.require, tt.must), func(t *testing.T) {
			t.Setenv("GPUTRAIN_REQUIRE_GPU", tt.require)
			f := &fakeTB{}
			inGoroutine(func() { Lacks(f, tt.must, "no timestamps on %s", "x") })
			assert.Equal(t, tt.fatal, f.fatal)
			assert.Equal(t, tt.skip, f.skip)
		})
	}
}

func TestDevice(t *testing.T) {
	t.Setenv("GPUTRAIN_TEST_DEVICE", "")
	assert.Equal(t, "any", Device())
	t.Setenv("GPUTRAIN_TEST_DEVICE", "gl")
	assert.Equal(t, "gl", Device())
}
