//go:build unix

package main

import (
	"bytes"
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestSIGTERMStopsBench sends a real SIGTERM to a running bench, wired as
// main wires it: it returns with status 130 and writes no results, long
// before the bench it interrupts (at least 45 s of timed repetitions)
// would have ended.
func TestSIGTERMStopsBench(t *testing.T) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan int, 1)
	var out, errb bytes.Buffer
	go func() {
		done <- run(ctx, []string{"bench", "--device", "cpu", "--batch", "8192,8192,8192", "--reps", "5", "--rep-seconds", "3"}, &out, &errb)
	}()
	time.Sleep(300 * time.Millisecond)
	sent := time.Now()
	assert.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	select {
	case code := <-done:
		assert.Equal(t, 130, code, errb.String())
		t.Logf("stopped %v after SIGTERM", time.Since(sent))
	case <-time.After(30 * time.Second):
		t.Fatal("bench did not stop within 30 s of SIGTERM")
	}
	assert.Contains(t, errb.String(), "interrupted")
	assert.Empty(t, out.String())
}
