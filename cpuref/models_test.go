package cpuref_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
)

// arrayStep is the operations of a training step of a 6-5-3 layer pair on
// a model array of n models (per-model weights and index lists, a shared
// data set), as nn records them.
type arrayStep struct {
	b                              *cpuref.Backend
	src, tgt, idx, x, y0, y1, d0   backend.Tensor
	d1, w0, b0, w1, b1, gw0, gb0   backend.Tensor
	gw1, gb1, loss, count, hp, sgd backend.Tensor
	vw0, adam, m0, v0              backend.Tensor
}

func newArrayStep(t *testing.T, n int, seed float64) *arrayStep {
	b := cpuref.New()
	arr := func(models, r, c int, fill bool) backend.Tensor {
		x, err := b.NewArray(models, r, c, backend.Float)
		require.NoError(t, err)
		if fill {
			v := make([]float64, models*r*c)
			for i := range v {
				v[i] = float64((i*7+int(seed*13))%17)/17 - 0.5
			}
			require.NoError(t, b.WriteFloats(x, v))
		}
		return x
	}
	s := &arrayStep{b: b}
	var err error
	s.src, s.tgt = arr(1, 20, 6, true), arr(1, 20, 1, false)
	labels := make([]float64, 20)
	for i := range labels {
		labels[i] = float64(i % 3)
	}
	require.NoError(t, b.WriteFloats(s.tgt, labels))
	idx, err := b.NewArray(n, 1, 20, backend.Index)
	require.NoError(t, err)
	order := make([]uint32, 20*n)
	for i := range order {
		order[i] = uint32((i*7 + i/20) % 20)
	}
	require.NoError(t, b.WriteIndices(idx, order))
	s.idx = idx
	s.x, s.y0, s.y1, s.d0, s.d1 = arr(n, 8, 6, false), arr(n, 8, 5, false), arr(n, 8, 3, false), arr(n, 8, 5, false), arr(n, 8, 3, false)
	s.w0, s.b0, s.w1, s.b1 = arr(n, 6, 5, true), arr(n, 1, 5, true), arr(n, 5, 3, true), arr(n, 1, 3, true)
	s.gw0, s.gb0, s.gw1, s.gb1 = arr(n, 6, 5, false), arr(n, 1, 5, false), arr(n, 5, 3, false), arr(n, 1, 3, false)
	s.loss, s.count, s.vw0 = arr(n, 1, 1, false), arr(n, 1, 1, false), arr(n, 6, 5, false)
	s.m0, s.v0 = arr(n, 1, 5, false), arr(n, 1, 5, false)
	s.hp, err = backend.NewHP(b, n, backend.MomentumHP(0.1, 0.9))
	require.NoError(t, err)
	s.sgd, err = backend.NewHP(b, 1, backend.SGDHP(0.05))
	require.NoError(t, err)
	s.adam, err = backend.NewHP(b, n, backend.AdamHP(0.01, 0.9, 0.999, 1e-8))
	require.NoError(t, err)
	return s
}

func (s *arrayStep) run() {
	b := s.b
	b.GatherMatMulBiasActivate(s.x, s.src, s.idx, 4, 0.5, s.y0, s.w0, s.b0, backend.Sigmoid, backend.Dropout{})
	b.MatMulBiasActivate(s.y1, s.y0, s.w1, s.b1, backend.Identity, backend.Dropout{})
	b.LossGradCount(s.loss, s.count, s.d1, s.y1, s.tgt, s.idx, 4, backend.SoftmaxCrossEntropy, nil)
	b.MatMulColumnSum(s.gw1, s.gb1, s.y0, s.d1)
	b.MatMulActivationGrad(s.d0, s.d1, s.w1, s.y0, true, backend.Sigmoid, backend.Dropout{})
	b.MatMulColumnSum(s.gw0, s.gb0, s.x, s.d0)
	b.Momentum(s.w0, s.gw0, s.vw0, s.hp, nil)
	b.SGD(s.w1, s.gw1, s.sgd, nil)
	b.Adam(s.b0, s.gb0, s.m0, s.v0, s.adam, nil, 2)
	b.SGD(s.b1, s.gb1, s.sgd, nil)
}

// state reads every tensor the step writes.
func (s *arrayStep) state(t *testing.T) [][]float64 {
	var out [][]float64
	for _, x := range []backend.Tensor{s.x, s.y0, s.y1, s.d0, s.d1, s.w0, s.b0, s.w1, s.b1, s.gw0, s.gb0, s.gw1, s.gb1, s.loss, s.count, s.vw0, s.m0, s.v0} {
		out = append(out, read(t, s.b, x))
	}
	return out
}

// TestArraySpreadOverCores: with as many models as cores or more, an
// array's operations run its models on several goroutines (models.go); the
// results are bit for bit those of the models run one after another
// (GOMAXPROCS 1), and a step allocates nothing.
func TestArraySpreadOverCores(t *testing.T) {
	const n, steps = 5, 4
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	serial := newArrayStep(t, n, 1)
	for range steps {
		serial.run()
	}
	want := serial.state(t)

	for _, procs := range []int{2, 3, 5} {
		runtime.GOMAXPROCS(procs)
		s := newArrayStep(t, n, 1)
		for range steps {
			s.run()
		}
		assert.Equal(t, want, s.state(t), "spread over %d goroutines against one after another", procs)
		allocs := testing.AllocsPerRun(10, s.run)
		assert.Zero(t, allocs, "allocations per array step, GOMAXPROCS %d", procs)
	}
}

// TestArraySpreadPanics: a panic in a chunk of models run by a worker (an
// index outside the target's rows, here in the last model) panics on the
// caller with the operation's message.
func TestArraySpreadPanics(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	const n = 4
	s := newArrayStep(t, n, 1)
	order := make([]uint32, 20*n)
	order[len(order)-1] = 99
	require.NoError(t, s.b.WriteIndices(s.idx, order))
	s.b.MatMulBiasActivate(s.y1, s.y0, s.w1, s.b1, backend.Identity, backend.Dropout{})
	assert.PanicsWithValue(t, "cpuref: LossGradCount: index 99 outside the 20 rows of the target", func() {
		s.b.LossGradCount(s.loss, s.count, s.d1, s.y1, s.tgt, s.idx, 12, backend.SoftmaxCrossEntropy, nil)
	})
}
