package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInterruptExits130: every command stopped by Ctrl-C or SIGTERM (a
// cancelled context, as main wires the signals) exits with status 130 and
// says it was interrupted, not 1 with "context canceled".
func TestInterruptExits130(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.csv")
	var b strings.Builder
	b.WriteString("a,b,y\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "%d,%d,%d\n", i%11, i%5, i%7)
	}
	require.NoError(t, os.WriteFile(big, []byte(b.String()), 0o644))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"solve", []string{"solve", "--device", "cpu"}, "interrupted"},
		{"regress", []string{"regress", "--device", "cpu", "--csv", big, "--x", "a,b", "--y", "y"}, "interrupted"},
		{"bench", []string{"bench", "--device", "cpu", "--batch", "1,32"}, "interrupted"},
		{"train on a table", []string{"--device", "cpu", "--csv", big, "--target", "y"}, "reading stopped at line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			start := time.Now()
			code, stdout, stderr := gputrainCtx(t, ctx, tt.args...)
			assert.Equal(t, 130, code, stderr)
			assert.Contains(t, stderr, tt.want)
			assert.NotContains(t, stderr, "goroutine")
			assert.NotContains(t, stdout, "x   =", "no result of an interrupted run")
			assert.Less(t, time.Since(start), 5*time.Second)
		})
	}
}

// TestInterruptBeforeTrainingKeepsSave: a run interrupted before its first
// step does not write its untrained model over an existing --save file.
func TestInterruptBeforeTrainingKeepsSave(t *testing.T) {
	ck := filepath.Join(t.TempDir(), "model.safetensors")
	code, _, stderr := gputrain(t, append([]string{"--device", "cpu", "--save", ck}, small...)...)
	require.Equal(t, 0, code, stderr)
	before := readFile(t, ck)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, stderr = gputrainCtx(t, ctx, append([]string{"--device", "cpu", "--save", ck, "--seed", "9"}, small...)...)
	assert.Equal(t, 130, code, stderr)
	assert.Contains(t, stderr, "interrupted before the first step: nothing trained, "+ck+" left as it was")
	assert.Equal(t, before, readFile(t, ck))
}
