package nn

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/gpu/gputest"
)

// TestTrainStepAllocs: once Train's loop has seen its step (pipelines
// compiled, bind groups cached), recording a step of a 784-128-64-10 MLP on
// the GPU allocates nothing on the Go heap, with each optimizer, and with
// dropout (whose step number changes every step).
func TestTrainStepAllocs(t *testing.T) {
	g := gputest.Open(t)
	set := data.Synthetic(64, 1, 3).Train
	spec := Spec{Inputs: set.Cols, Hidden: []int{128, 64}, Outputs: 10, Activation: backend.Sigmoid, Head: SoftmaxHead}
	for _, tc := range []struct {
		opt  Optimizer
		wd   float64
		clip float64
		drop float64
	}{{SGD, 0, 0, 0}, {Momentum, 0, 0, 0}, {Adam, 0, 0, 0}, {Momentum, 1e-3, 0, 0}, {AdamW, 0.01, 0, 0}, {AdamW, 0.01, 1, 0}, {Adam, 0, 0, 0.5}} {
		t.Run(fmt.Sprintf("%v/wd=%g/clip=%g/dropout=%g", tc.opt, tc.wd, tc.clip, tc.drop), func(t *testing.T) {
			m, err := NewModel(g, spec, 1)
			require.NoError(t, err)
			defer m.Free()
			cfg, err := Config{Epochs: 1, Batch: 8, LR: 0.01, Optimizer: tc.opt, WeightDecay: tc.wd, ClipNorm: tc.clip, Dropout: tc.drop, Seed: 7}.withDefaults()
			require.NoError(t, err)
			a := newAllocator(g)
			defer a.free()
			x, tg, scale, err := m.upload(a, set)
			require.NoError(t, err)
			ws := m.newWorkspace(a, cfg.Batch, true)
			gr := m.newGrads(a)
			o := newOptimizer(a, g, &cfg, m.params, gr.all, nil)
			if tc.wd != 0 {
				require.NoError(t, o.useDecay(a, m))
			}
			require.NoError(t, o.writeHP())
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
				m.trainStep(ws, gr, o, x, tg, idx, off, scale, lossT, countT, nil, dropout{p: cfg.Dropout, seed: cfg.Seed})
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

// TestDecayMask: the weight-decay mask is 1 on every weight and 0 on every
// bias and on the padding between the packed tensors, so that biases are
// not decayed.
func TestDecayMask(t *testing.T) {
	b := cpuref.New()
	spec := Spec{Inputs: 3, Hidden: []int{5}, Outputs: 2, Activation: backend.ReLU, Head: SoftmaxHead}
	m, err := NewModel(b, spec, 1)
	require.NoError(t, err)
	defer m.Free()
	a := newAllocator(b)
	defer a.free()
	o := &optimizer{b: b}
	require.NoError(t, o.useDecay(a, m))
	first := o.decay
	require.NoError(t, o.useDecay(a, m))
	assert.Same(t, first, o.decay, "allocated once")
	got, err := b.ReadFloats(o.decay)
	require.NoError(t, err)
	offsets, total := m.paramLayout()
	require.Len(t, got, total)
	want := make([]float64, total)
	for j := offsets[0]; j < offsets[0]+3*5; j++ { // w0
		want[j] = 1
	}
	for j := offsets[2]; j < offsets[2]+5*2; j++ { // w1
		want[j] = 1
	}
	assert.Equal(t, want, got)
	assert.Equal(t, 15+10, int(sum(got)), "weights decayed")
}

func sum(v []float64) (s float64) {
	for _, x := range v {
		s += x
	}
	return s
}
