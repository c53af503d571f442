//go:build unix

package main

import (
	"bytes"
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSIGINTFinishesStepAndSaves sends the process a real SIGINT in the
// middle of training, wired the way main wires it: training finishes the
// current step, the checkpoint is written, and the exit status is 130.
func TestSIGINTFinishesStepAndSaves(t *testing.T) {
	ck := filepath.Join(t.TempDir(), "model.safetensors")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan int, 1)
	var out, errb bytes.Buffer
	go func() {
		done <- run(ctx, []string{"--device", "cpu", "--epochs", "1000", "--hidden", "16", "--save", ck}, &out, &errb)
	}()
	// Wait until an epoch has been saved, then interrupt.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(ck); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "no checkpoint after 60 s: %s", errb.String())
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGINT))
	select {
	case code := <-done:
		assert.Equal(t, 130, code, errb.String())
	case <-time.After(60 * time.Second):
		t.Fatal("training did not stop within 60 s of SIGINT")
	}
	assert.Contains(t, errb.String(), "interrupted")
	assert.NotContains(t, errb.String(), "goroutine")
	// The saved model loads and evaluates.
	code, _, stderr := gputrain(t, "eval", "--device", "cpu", "--model", ck)
	assert.Equal(t, 0, code, stderr)
}
