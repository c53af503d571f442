package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/safetensors"
)

// cancelAt is a stderr that cancels the run once a line containing at
// has been written: the epoch hook prints the epoch's line, so the run
// stops before the next epoch's first step.
type cancelAt struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	at     string
	cancel context.CancelFunc
}

func (c *cancelAt) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.buf.Write(p)
	if strings.Contains(c.buf.String(), c.at) {
		c.cancel()
	}
	return n, err
}

// TestResumeContinuesExactly: train --epochs 5 straight writes the same
// checkpoint tensors (weights and optimizer state), on the CPU backend, as
// the same run interrupted after epoch 2 and resumed with --resume for the
// 3 epochs left; the banner says what continues.
func TestResumeContinuesExactly(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		notes []string
	}{
		{"adam, cosine with warm-up", []string{"--optimizer", "adam", "--lr", "0.005", "--schedule", "cosine", "--warmup", "1"},
			[]string{"adam's exp_avg and exp_avg_sq at step", "the cosine schedule continues at its epoch 3 of 5"}},
		{"momentum, step", []string{"--optimizer", "momentum", "--lr", "0.05", "--schedule", "step", "--step-every", "2", "--step-gamma", "0.5"},
			[]string{"momentum's momentum_buffer", "the step schedule continues at its epoch 3 of 5"}},
		{"sgd, plateau", []string{"--optimizer", "sgd", "--lr", "0.5", "--schedule", "plateau", "--plateau-patience", "1", "--val", "0.2"},
			[]string{"the plateau schedule continues at its epoch 3 of 5"}},
		{"adamw", []string{"--optimizer", "adamw"}, []string{"adamw's exp_avg and exp_avg_sq"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			common := append([]string{"train", "--device", "cpu", "--hidden", "16", "--digits", "0,1,2"}, tt.flags...)
			full, cut := filepath.Join(dir, "full.safetensors"), filepath.Join(dir, "cut.safetensors")
			code, _, stderr := gputrain(t, append(common, "--epochs", "5", "--save", full)...)
			require.Equal(t, 0, code, stderr)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w := &cancelAt{at: "epoch 2/5", cancel: cancel}
			var out bytes.Buffer
			code = run(ctx, append(common, "--epochs", "5", "--save", cut), &out, w)
			require.Equal(t, 130, code, w.buf.String())

			// The rest, with the flags left out: the checkpoint's schedule
			// and rate continue.
			rest := []string{"train", "--device", "cpu", "--resume", cut, "--save", cut, "--epochs", "3", "--digits", "0,1,2", "--optimizer", tt.flags[1]}
			code, _, stderr = gputrain(t, rest...)
			require.Equal(t, 0, code, stderr)
			for _, n := range tt.notes {
				assert.Contains(t, stderr, n)
			}
			a, err := safetensors.Read(full)
			require.NoError(t, err)
			b, err := safetensors.Read(cut)
			require.NoError(t, err)
			require.Equal(t, len(a.Tensors), len(b.Tensors))
			for _, x := range a.Tensors {
				y := b.Tensor(x.Name)
				if assert.NotNil(t, y, x.Name) {
					assert.Equal(t, x.Data, y.Data, "%s bit for bit", x.Name)
				}
			}
		})
	}
}

// TestResumeOldCheckpointNotes: a checkpoint without a schedule position
// or optimizer state (saved by a run without them) resumes, saying that
// the schedule starts over and the moments from zero.
func TestResumeOldCheckpointNotes(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "m.safetensors")
	code, _, stderr := gputrain(t, "train", "--device", "cpu", "--hidden", "16", "--epochs", "1", "--optimizer", "sgd", "--save", ck)
	require.Equal(t, 0, code, stderr)
	code, _, stderr = gputrain(t, "train", "--device", "cpu", "--resume", ck, "--epochs", "2", "--schedule", "cosine")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "the checkpoint keeps no schedule position: the cosine schedule starts over these 2 epochs")
	assert.Contains(t, stderr, "the checkpoint keeps sgd's state, not adam's: adam's starts from zero")
}
