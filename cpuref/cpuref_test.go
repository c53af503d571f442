package cpuref_test

import (
	"strings"
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInfo(t *testing.T) {
	i := cpuref.New().Info()
	assert.Equal(t, "cpu", i.Kind)
	assert.Equal(t, "cpu", i.API)
	assert.Equal(t, "cpu", i.AdapterType)
	assert.Equal(t, "float64", i.Precision)
	assert.True(t, strings.HasPrefix(i.Adapter, "Go float64 reference, "), i.Adapter)
	assert.Contains(t, i.String(), "cpu: Go float64 reference")
}

func TestNewViewFreeClose(t *testing.T) {
	b := cpuref.New()
	for _, dt := range []backend.DType{backend.Float, backend.Byte, backend.Index} {
		x, err := b.New(3, 4, dt)
		require.NoError(t, err)
		assert.Equal(t, 3, x.Rows())
		assert.Equal(t, 4, x.Cols())
		assert.Equal(t, dt, x.DType())
	}
	assert.Equal(t, 3, b.Live())

	x := mat(t, b, 3, 2, 1, 2, 3, 4, 5, 6)
	v := b.View(x, 2)
	assert.Equal(t, 2, v.Rows())
	assert.Equal(t, []float64{1, 2, 3, 4}, read(t, b, v))
	b.Fill(v, 9) // writes through to the parent, first two rows only
	assert.Equal(t, []float64{9, 9, 9, 9, 5, 6}, read(t, b, x))
	vv := b.View(v, 1)
	assert.Equal(t, []float64{9, 9}, read(t, b, vv))
	b.Free(v) // freeing a view does nothing
	assert.Equal(t, []float64{9, 9}, read(t, b, vv))
	assert.Equal(t, 4, b.Live())

	b.Free(x)
	assert.Equal(t, 3, b.Live())
	assert.PanicsWithValue(t, "cpuref: ReadFloats: use of freed tensor 3x2", func() { _, _ = b.ReadFloats(x) })
	assert.PanicsWithValue(t, "cpuref: Fill: use of freed tensor 1x2", func() { b.Fill(vv, 0) }, "a view dies with its parent")
	assert.PanicsWithValue(t, "cpuref: Free: use of freed tensor 3x2", func() { b.Free(x) })

	other := cpuref.New()
	y := mat(t, other, 1, 1)
	assert.PanicsWithValue(t, "cpuref: Fill: tensor 1x1 belongs to another cpuref backend", func() { b.Fill(y, 0) })
	assert.PanicsWithValue(t, "cpuref: Fill: tensor 1x1 (cpuref_test.fakeTensor) does not belong to this backend",
		func() { b.Fill(fakeTensor{}, 0) })

	z := mat(t, b, 2, 2)
	require.NoError(t, b.Sync())
	require.NoError(t, b.Close())
	assert.Equal(t, 0, b.Live())
	assert.PanicsWithValue(t, "cpuref: Fill: backend used after Close", func() { b.Fill(z, 0) })
	assert.Panics(t, func() { _, _ = b.New(1, 1, backend.Float) })
	assert.NotPanics(t, func() { b.Free(z) }, "Free after Close does nothing, like the GPU backend")
	require.NoError(t, b.Close())
}

// fakeTensor is a Tensor of no backend.
type fakeTensor struct{}

func (fakeTensor) Rows() int            { return 1 }
func (fakeTensor) Cols() int            { return 1 }
func (fakeTensor) DType() backend.DType { return backend.Float }
func (fakeTensor) Models() int          { return 1 }

func TestNewAndWritePanicsAndErrors(t *testing.T) {
	b := cpuref.New()
	_, err := b.New(1<<20, 1<<12, backend.Float)
	assert.ErrorContains(t, err, "more than the 2^31 elements")
	x := mat(t, b, 2, 2)
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"zero rows", func() { _, _ = b.New(0, 3, backend.Float) }, "New: shape 0x3 must be at least 1x1"},
		{"view too big", func() { b.View(x, 3) }, "View: 3 rows outside [1, 2] of 2x2 float"},
		{"short write", func() { _ = b.WriteFloats(x, []float64{1}) }, "WriteFloats: 1 values for tensor 2x2 float (want 4)"},
		{"wrong type write", func() { _ = b.WriteBytes(x, make([]byte, 4)) }, "WriteBytes: tensor 2x2 float is not of type byte"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { assert.PanicsWithValue(t, tc.want, tc.f) })
	}
	bt, err := b.New(1, 1, backend.Byte)
	require.NoError(t, err)
	assert.PanicsWithValue(t, "cpuref: Data of a byte tensor", func() { bt.(*cpuref.Tensor).Data() })
	assert.PanicsWithValue(t, "ReadFloats: tensor 1x1 byte is not of type float", func() { _, _ = b.ReadFloats(bt) })
}

// TestNoAllocations checks that the hot operations of a training step
// allocate nothing (this backend is also `--device cpu`). The shapes keep
// MatMul and BiasActivate below the sizes they split over goroutines.
func TestNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops pooled buffers at random")
	}
	b := cpuref.New()
	const m, k, n = 32, 16, 8
	x, w, y := mat(t, b, m, k), mat(t, b, k, n), mat(t, b, m, n)
	bias, dy, dw := mat(t, b, 1, n), mat(t, b, m, n), mat(t, b, k, n)
	dx, db, vw, mw := mat(t, b, m, k), mat(t, b, 1, n), mat(t, b, k, n), mat(t, b, k, n)
	loss, tgt, src := mat(t, b, 1, 1), mat(t, b, m, n), mat(t, b, 100, k)
	idx := indices(t, b, make([]uint32, 2*m)...)
	sgd := mat(t, b, 1, backend.SGDHPCols, backend.WithWeightDecay(backend.SGDHP(0.1), 1e-4)...)
	mom := mat(t, b, 1, backend.MomentumHPCols, backend.WithWeightDecay(backend.MomentumHP(0.1, 0.9), 1e-4)...)
	adam := mat(t, b, 1, backend.AdamHPCols, backend.AdamWHP(0.1, 0.9, 0.999, 1e-8, 1e-2)...)
	decay := mat(t, b, k, n)
	b.Fill(decay, 1)
	allocs := testing.AllocsPerRun(20, func() {
		b.Gather(x, src, idx, m, 0.5)
		b.MatMul(y, x, w, false, false)
		b.BiasActivate(y, bias, backend.Tanh)
		b.LossGrad(loss, dy, y, tgt, backend.MeanSquaredError)
		b.ActivationGrad(dy, y, backend.Tanh)
		b.MatMul(dw, x, dy, true, false)
		b.MatMul(dx, dy, w, false, true)
		b.ColumnSum(db, dy)
		b.SGD(bias, db, sgd, nil)
		b.Momentum(w, dw, vw, mom, decay)
		b.Adam(w, dw, mw, vw, adam, decay, 3)
		b.Fill(loss, 0)
		// The fused layer operations, whose elementwise work is the
		// product's epilogue, with dropout.
		drop := backend.Dropout{P: 0.25, Seed: 3, Step: 1}
		b.MatMulBiasActivate(y, x, w, bias, backend.Sigmoid, drop)
		b.GatherMatMulBiasActivate(x, src, idx, 0, 0.5, y, w, bias, backend.ReLU, drop)
		b.MatMulActivationGrad(dx, dy, w, x, true, backend.Tanh, drop)
	})
	assert.Zero(t, allocs)
}
