package nn_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/gpu/gputest"
	"github.com/gputrain/gputrain/nn"
)

// TestSoakTrainingOnGPU is the training soak test: 20,000 optimizer steps
// (2,000 under -short) of a small classifier through nn.Train on the GPU
// backend. Counters, not time: the live GPU buffers, cached bind groups,
// pipelines and the Go heap must be the same after the last epoch as after
// the second (the first compiles pipelines and fills the caches).
func TestSoakTrainingOnGPU(t *testing.T) {
	b := gputest.Open(t)
	m := newModel(t, b, pixelSpec, 1)
	set := pixelSet(100, 7)
	steps := 20000
	if testing.Short() {
		steps = 2000
	}
	const batch = 10 // 10 steps an epoch
	var atSecond, atLast struct {
		buffers, groups, pipelines int
		heap                       uint64
	}
	snapshot := func(dst *struct {
		buffers, groups, pipelines int
		heap                       uint64
	}) {
		s := b.Stats()
		dst.buffers, dst.groups, dst.pipelines = s.LiveBuffers, s.BindGroups, s.Pipelines
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		dst.heap = ms.HeapInuse
	}
	epochs := steps / (set.Rows / batch)
	hooks := nn.Hooks{Epoch: func(s nn.EpochStats) {
		switch s.Epoch {
		case 2:
			snapshot(&atSecond)
		case epochs:
			snapshot(&atLast)
		}
	}}
	h, err := nn.Train(context.Background(), b, m, set, nn.Config{Epochs: epochs, Batch: batch, LR: 0.05, Optimizer: nn.Adam}, hooks)
	require.NoError(t, err)
	require.Len(t, h.Epochs, epochs)
	assert.Equal(t, atSecond.buffers, atLast.buffers, "live GPU buffers")
	assert.Equal(t, atSecond.groups, atLast.groups, "cached bind groups")
	assert.Equal(t, atSecond.pipelines, atLast.pipelines, "pipelines")
	growth := int64(atLast.heap) - int64(atSecond.heap)
	assert.Less(t, growth, int64(1<<20), "Go heap grew by %d bytes over %d steps", growth, steps)
	assert.Greater(t, h.Last().Accuracy, 0.95, "and it still learns")
}
