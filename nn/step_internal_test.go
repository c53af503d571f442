package nn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/gpu/gputest"
)

// TestTrainStepAllocs: once Train's loop has seen its step (pipelines
// compiled, bind groups cached), recording a step of a 784-128-64-10 MLP on
// the GPU allocates nothing on the Go heap, with each optimizer.
func TestTrainStepAllocs(t *testing.T) {
	g := gputest.Open(t)
	set := data.Synthetic(64, 1, 3).Train
	spec := Spec{Inputs: set.Cols, Hidden: []int{128, 64}, Outputs: 10, Activation: backend.Sigmoid, Head: SoftmaxHead}
	for _, opt := range []Optimizer{SGD, Momentum, Adam} {
		t.Run(opt.String(), func(t *testing.T) {
			m, err := NewModel(g, spec, 1)
			require.NoError(t, err)
			defer m.Free()
			cfg, err := Config{Epochs: 1, Batch: 8, LR: 0.01, Optimizer: opt}.withDefaults()
			require.NoError(t, err)
			a := newAllocator(g)
			defer a.free()
			x, tg, scale, err := m.upload(a, set)
			require.NoError(t, err)
			ws := m.newWorkspace(a, cfg.Batch, true)
			gr := m.newGrads(a)
			o := newOptimizer(a, g, &cfg, m.params, gr.all)
			idx := a.new(set.Rows, 1, backend.Index)
			lossT, countT := a.new(1, 1, backend.Float), a.new(1, 1, backend.Float)
			require.NoError(t, a.err)
			order := make([]uint32, set.Rows)
			for i := range order {
				order[i] = uint32(i)
			}
			require.NoError(t, g.WriteIndices(idx, order))
			off := 0
			step := func() {
				m.trainStep(ws, gr, o, x, tg, idx, off, scale, lossT, countT)
				off = (off + cfg.Batch) % set.Rows
			}
			for range set.Rows / cfg.Batch {
				step() // every offset once: every bind group made
			}
			allocs := testing.AllocsPerRun(20, step)
			require.NoError(t, g.Sync())
			assert.Zero(t, allocs, "allocations per recorded step")
		})
	}
}
