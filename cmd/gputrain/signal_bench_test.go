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
// main wires it: it returns within a second with status 130 and writes no
// results (it used to run on until killed).
func TestSIGTERMStopsBench(t *testing.T) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan int, 1)
	var out, errb bytes.Buffer
	go func() {
		done <- run(ctx, []string{"bench", "--device", "cpu", "--batch", "8192,8192,8192", "--reps", "3", "--rep-seconds", "1"}, &out, &errb)
	}()
	time.Sleep(300 * time.Millisecond)
	sent := time.Now()
	assert.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	select {
	case code := <-done:
		assert.Equal(t, 130, code, errb.String())
		assert.Less(t, time.Since(sent), time.Second)
	case <-time.After(10 * time.Second):
		t.Fatal("bench did not stop within 10 s of SIGTERM")
	}
	assert.Contains(t, errb.String(), "interrupted")
	assert.Empty(t, out.String())
}
