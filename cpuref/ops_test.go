package cpuref_test

import (
	"math"
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tol is the tolerance of the hand-computed cases: a few float64 roundings.
const tol = 1e-14

func TestMatMul(t *testing.T) {
	// A = [1 2 3; 4 5 6], B = [7 8; 9 10; 11 12], A·B = [58 64; 139 154].
	a, at := []float64{1, 2, 3, 4, 5, 6}, []float64{1, 4, 2, 5, 3, 6}
	bm, bmt := []float64{7, 8, 9, 10, 11, 12}, []float64{7, 9, 11, 8, 10, 12}
	want := []float64{58, 64, 139, 154}
	tests := []struct {
		transA, transB bool
		ar, ac, br, bc int
		a, b           []float64
	}{
		{false, false, 2, 3, 3, 2, a, bm},
		{true, false, 3, 2, 3, 2, at, bm},
		{false, true, 2, 3, 2, 3, a, bmt},
		{true, true, 3, 2, 2, 3, at, bmt},
	}
	for _, tc := range tests {
		b := cpuref.New()
		c := mat(t, b, 2, 2, 7, 7, 7, 7) // overwritten, not accumulated into
		b.MatMul(c, mat(t, b, tc.ar, tc.ac, tc.a...), mat(t, b, tc.br, tc.bc, tc.b...), tc.transA, tc.transB)
		assert.Equal(t, want, read(t, b, c), "transA=%v transB=%v", tc.transA, tc.transB)
	}

	b := cpuref.New()
	c := mat(t, b, 1, 1)
	b.MatMul(c, mat(t, b, 1, 1, 3), mat(t, b, 1, 1, -2), false, false)
	assert.Equal(t, []float64{-6}, read(t, b, c))
}

func TestColumnSum(t *testing.T) {
	b := cpuref.New()
	d := mat(t, b, 1, 2, 100, 100)
	b.ColumnSum(d, mat(t, b, 3, 2, 1, 2, 3, 4, 5, 6))
	assert.Equal(t, []float64{9, 12}, read(t, b, d))
	b.ColumnSum(d, mat(t, b, 1, 2, -1, 0.5))
	assert.Equal(t, []float64{-1, 0.5}, read(t, b, d))
}

func TestBiasActivate(t *testing.T) {
	// y + bias = [0, -1, 2.5; 1000, -1000, -800].
	y := []float64{-1, 0, 2, 999, -999, -800.5}
	bias := []float64{1, -1, 0.5}
	tests := []struct {
		act  backend.Activation
		want []float64
	}{
		{backend.Identity, []float64{0, -1, 2.5, 1000, -1000, -800}},
		{backend.ReLU, []float64{0, 0, 2.5, 1000, 0, 0}},
		{backend.Sigmoid, []float64{0.5, 0.2689414213699951, 0.9241418199787566, 1, 0, 0}},
		{backend.Tanh, []float64{0, -0.7615941559557649, 0.9866142981514303, 1, -1, -1}},
	}
	for _, tc := range tests {
		t.Run(tc.act.String(), func(t *testing.T) {
			b := cpuref.New()
			yt := mat(t, b, 2, 3, y...)
			b.BiasActivate(yt, mat(t, b, 1, 3, bias...), tc.act)
			got := read(t, b, yt)
			assert.InDeltaSlice(t, tc.want, got, tol)
			for _, v := range got {
				assert.False(t, math.IsNaN(v) || math.IsInf(v, 0), "non-finite %v", v)
			}
		})
	}
}

func TestSigmoidStable(t *testing.T) {
	for _, tc := range []struct{ z, want float64 }{
		{0, 0.5}, {-800, 0}, {800, 1}, {-1000, 0}, {1000, 1}, {-30, 9.357622968839299e-14},
	} {
		got := cpuref.Sigmoid(tc.z)
		assert.InEpsilon(t, tc.want+1e-300, got+1e-300, 1e-12, "σ(%v)", tc.z)
	}
	assert.InEpsilon(t, math.Exp(-700), cpuref.Sigmoid(-700), 1e-12, "relative accuracy deep in the tail")
}

func TestActivationGrad(t *testing.T) {
	// d = [2, -3, 4], y per activation.
	d := []float64{2, -3, 4}
	tests := []struct {
		act  backend.Activation
		y    []float64
		want []float64
	}{
		{backend.Identity, []float64{-5, 0, 5}, []float64{2, -3, 4}},
		{backend.ReLU, []float64{0, 0.5, 3}, []float64{0, -3, 4}},
		{backend.Sigmoid, []float64{0.5, 0.25, 1}, []float64{0.5, -0.5625, 0}},
		{backend.Tanh, []float64{0, 0.5, -1}, []float64{2, -2.25, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.act.String(), func(t *testing.T) {
			b := cpuref.New()
			dt := mat(t, b, 1, 3, d...)
			b.ActivationGrad(dt, mat(t, b, 1, 3, tc.y...), tc.act)
			assert.InDeltaSlice(t, tc.want, read(t, b, dt), tol)
			for i, y := range tc.y {
				assert.InDelta(t, tc.want[i]/d[i], cpuref.Derivative(tc.act, y), tol)
			}
		})
	}
}

func TestLossGrad(t *testing.T) {
	ln := math.Log
	tests := []struct {
		name       string
		kind       backend.Loss
		rows, cols int
		out, tgt   []float64
		loss       float64 // sum of per-row losses
		grad       []float64
	}{
		{"bce", backend.BinaryCrossEntropy, 2, 1, []float64{0, 2}, []float64{1, 0},
			ln(2) + 2 + math.Log1p(math.Exp(-2)), []float64{-0.25, 0.44039853898894116}},
		// exp(z) = [1 2 3], class 1: loss log 6 − log 2, grad softmax − onehot.
		{"softmax-ce", backend.SoftmaxCrossEntropy, 1, 3, []float64{0, ln(2), ln(3)}, []float64{1},
			ln(3), []float64{1.0 / 6, 2.0/6 - 1, 3.0 / 6}},
		// errors [1 0; 0 2]: row means 0.5 and 2; grad 2e/(2·2).
		{"mse", backend.MeanSquaredError, 2, 2, []float64{1, 2, 3, 4}, []float64{0, 2, 3, 2},
			2.5, []float64{0.5, 0, 0, 1}},
		// The tails: finite losses and gradients for logits of ±1000.
		{"bce tails", backend.BinaryCrossEntropy, 4, 1, []float64{1000, 1000, -1000, -1000}, []float64{1, 0, 1, 0},
			2000, []float64{0, 0.25, -0.25, 0}},
		{"softmax-ce tails", backend.SoftmaxCrossEntropy, 2, 3, []float64{1000, 0, -1000, 1000, 0, -1000}, []float64{0, 2},
			2000, []float64{0, 0, 0, 0.5, 0, -0.5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := cpuref.New()
			loss := mat(t, b, 1, 1, 1) // accumulates onto 1
			grad := mat(t, b, tc.rows, tc.cols)
			tcols := 1
			if tc.kind == backend.MeanSquaredError {
				tcols = tc.cols
			}
			b.LossGrad(loss, grad, mat(t, b, tc.rows, tc.cols, tc.out...), mat(t, b, tc.rows, tcols, tc.tgt...), tc.kind)
			assert.InDelta(t, 1+tc.loss, read(t, b, loss)[0], tol*(1+tc.loss))
			assert.InDeltaSlice(t, tc.grad, read(t, b, grad), tol)
		})
	}
}

func TestLossGradPropagatesNaN(t *testing.T) {
	b := cpuref.New()
	loss := mat(t, b, 1, 1)
	b.LossGrad(loss, mat(t, b, 2, 1), mat(t, b, 2, 1, 1, math.NaN()), mat(t, b, 2, 1, 0, 1), backend.BinaryCrossEntropy)
	assert.True(t, math.IsNaN(read(t, b, loss)[0]))
}

func TestCountCorrect(t *testing.T) {
	tests := []struct {
		name       string
		kind       backend.Loss
		rows, cols int
		out, tgt   []float64
		want       float64
	}{
		// z = 0 predicts class 0.
		{"bce", backend.BinaryCrossEntropy, 5, 1, []float64{1, -1, 0, 3, math.NaN()}, []float64{1, 1, 0, 0, 0}, 2},
		// Ties go to the first largest logit.
		{"softmax-ce", backend.SoftmaxCrossEntropy, 3, 3, []float64{1, 3, 3, 5, 0, 0, 0, 0, 1}, []float64{1, 0, 1}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := cpuref.New()
			count := mat(t, b, 1, 1, 10)
			b.CountCorrect(count, mat(t, b, tc.rows, tc.cols, tc.out...), mat(t, b, tc.rows, 1, tc.tgt...), tc.kind)
			assert.Equal(t, 10+tc.want, read(t, b, count)[0])
		})
	}
}

func TestGather(t *testing.T) {
	b := cpuref.New()
	src := mat(t, b, 3, 2, 1, 2, 3, 4, 5, 6)
	idx := indices(t, b, 2, 0, 1, 2)
	dst := mat(t, b, 2, 2)
	b.Gather(dst, src, idx, 1, 2) // rows idx[1]=0 and idx[2]=1, doubled
	assert.Equal(t, []float64{2, 4, 6, 8}, read(t, b, dst))

	pix, err := b.New(2, 2, backend.Byte)
	require.NoError(t, err)
	require.NoError(t, b.WriteBytes(pix, []byte{0, 255, 51, 102}))
	b.Gather(dst, pix, indices(t, b, 1, 0), 0, 1.0/255)
	assert.InDeltaSlice(t, []float64{0.2, 0.4, 0, 1}, read(t, b, dst), tol)

	assert.PanicsWithValue(t, "cpuref: Gather: index 7 (idx[1]) outside the 3 rows of src",
		func() { b.Gather(dst, src, indices(t, b, 0, 7), 0, 1) })
	assert.PanicsWithValue(t, "Gather: rows [3, 5) outside the 4 indices of idx",
		func() { b.Gather(dst, src, idx, 3, 1) })
}

func TestFill(t *testing.T) {
	b := cpuref.New()
	x := mat(t, b, 2, 3)
	b.Fill(x, -2.5)
	assert.Equal(t, []float64{-2.5, -2.5, -2.5, -2.5, -2.5, -2.5}, read(t, b, x))
}

func TestOptimizers(t *testing.T) {
	t.Run("sgd", func(t *testing.T) {
		b := cpuref.New()
		w := mat(t, b, 1, 2, 1, 2)
		b.SGD(w, mat(t, b, 1, 2, 0.5, -1), mat(t, b, 1, backend.SGDHPCols, backend.SGDHP(0.1)...), nil)
		assert.InDeltaSlice(t, []float64{0.95, 2.1}, read(t, b, w), tol)
	})
	t.Run("momentum", func(t *testing.T) {
		b := cpuref.New()
		w, v := mat(t, b, 1, 1, 1), mat(t, b, 1, 1, 1)
		b.Momentum(w, mat(t, b, 1, 1, 2), v, mat(t, b, 1, backend.MomentumHPCols, backend.MomentumHP(0.1, 0.9)...), nil) // v = 0.9 + 2, w = 1 − 0.29
		assert.InDelta(t, 2.9, read(t, b, v)[0], tol)
		assert.InDelta(t, 0.71, read(t, b, w)[0], tol)
	})
	t.Run("adam", func(t *testing.T) {
		b := cpuref.New()
		w, g, m, v := mat(t, b, 1, 1, 1), mat(t, b, 1, 1, 0.5), mat(t, b, 1, 1), mat(t, b, 1, 1)
		hp := mat(t, b, 1, backend.AdamHPCols, backend.AdamHP(0.1, 0.9, 0.999, 1e-8)...)
		// Step 1: m = 0.05, v = 0.00025, m̂ = 0.5, v̂ = 0.25:
		// w = 1 − 0.1·0.5/(0.5+1e-8).
		b.Adam(w, g, m, v, hp, nil, 1)
		assert.InDelta(t, 0.05, read(t, b, m)[0], tol)
		assert.InDelta(t, 0.00025, read(t, b, v)[0], tol)
		assert.InDelta(t, 1-0.1*0.5/(0.5+1e-8), read(t, b, w)[0], tol)
		// Step 2 with g = −0.5: m = −0.005, v = 0.00049975, m̂ = −0.005/0.19,
		// v̂ = 0.00049975/0.001999 = 0.25.
		require.NoError(t, b.WriteFloats(g, []float64{-0.5}))
		b.Adam(w, g, m, v, hp, nil, 2)
		assert.InDelta(t, 0.9052631597894736, read(t, b, w)[0], tol)
		assert.PanicsWithValue(t, "Adam: step 0 must be at least 1", func() { b.Adam(w, g, m, v, hp, nil, 0) })
	})
}

// TestWeightDecay checks the decay terms of each optimizer by hand on two
// elements, a weight (decay 1) and a bias (decay 0), and that a nil decay
// decays both.
func TestWeightDecay(t *testing.T) {
	const lr, wd = 0.1, 0.5
	tests := []struct {
		name  string
		row   []float64
		nilD  bool
		want  []float64 // w after one step from w = [2, 2], g = [1, 1]
		state []float64 // momentum's v or Adam's m, where checked
	}{
		// g' = 1 + 0.5·2 = 2 for the weight, 1 for the bias.
		{"sgd", backend.WithWeightDecay(backend.SGDHP(lr), wd), false, []float64{2 - 0.2, 2 - 0.1}, nil},
		{"sgd, nil decay", backend.WithWeightDecay(backend.SGDHP(lr), wd), true, []float64{2 - 0.2, 2 - 0.2}, nil},
		{"momentum", backend.WithWeightDecay(backend.MomentumHP(lr, 0.9), wd), false, []float64{2 - 0.2, 2 - 0.1}, []float64{2, 1}},
		// Adam's first step moves by lr·sign(g') whatever its size (m̂/√v̂ = 1).
		{"adam l2", backend.WithWeightDecay(backend.AdamHP(lr, 0.9, 0.999, 0), wd), false, []float64{2 - 0.1, 2 - 0.1}, []float64{0.2, 0.1}},
		// AdamW: the moments see g alone; w -= lr·(1 + 0.5·2·d).
		{"adamw", backend.AdamWHP(lr, 0.9, 0.999, 0, wd), false, []float64{2 - 0.2, 2 - 0.1}, []float64{0.1, 0.1}},
		{"adamw, nil decay", backend.AdamWHP(lr, 0.9, 0.999, 0, wd), true, []float64{2 - 0.2, 2 - 0.2}, []float64{0.1, 0.1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := cpuref.New()
			w, g, s1, s2 := mat(t, b, 1, 2, 2, 2), mat(t, b, 1, 2, 1, 1), mat(t, b, 1, 2), mat(t, b, 1, 2)
			hp := mat(t, b, 1, len(tt.row), tt.row...)
			var d backend.Tensor
			if !tt.nilD {
				d = mat(t, b, 1, 2, 1, 0)
			}
			switch len(tt.row) {
			case backend.SGDHPCols:
				b.SGD(w, g, hp, d)
			case backend.MomentumHPCols:
				b.Momentum(w, g, s1, hp, d)
			default:
				b.Adam(w, g, s1, s2, hp, d, 1)
			}
			assert.InDeltaSlice(t, tt.want, read(t, b, w), tol)
			if tt.state != nil {
				assert.InDeltaSlice(t, tt.state, read(t, b, s1), tol)
			}
		})
	}
	t.Run("compensated", func(t *testing.T) {
		b := cpuref.New()
		w, g, c := mat(t, b, 1, 2, 2, -2), mat(t, b, 1, 2, 1, 1), mat(t, b, 1, 2)
		b.SGDCompensated(w, g, c, mat(t, b, 1, backend.SGDHPCols, backend.WithWeightDecay(backend.SGDHP(lr), wd)...))
		assert.InDeltaSlice(t, []float64{2 - 0.2, -2 - 0}, read(t, b, w), tol)
	})
}

// TestShapePanics checks that wiring mistakes panic with package backend's
// messages, so the reference fails exactly like the GPU.
func TestShapePanics(t *testing.T) {
	b := cpuref.New()
	m23, m32, m22 := mat(t, b, 2, 3), mat(t, b, 3, 2), mat(t, b, 2, 2)
	r13, r12, s11 := mat(t, b, 1, 3), mat(t, b, 1, 2), mat(t, b, 1, 1)
	r14, r15 := mat(t, b, 1, 4), mat(t, b, 1, 5)
	c21 := mat(t, b, 2, 1)
	idx := indices(t, b, 0, 1)
	bt, err := b.New(2, 3, backend.Byte)
	require.NoError(t, err)
	tests := []struct {
		name string
		f    func()
		want string // "" for any panic
	}{
		{"matmul inner", func() { b.MatMul(m22, m23, m23, false, false) },
			"MatMul: shape mismatch: op(a) 2x3 (transA=false), op(b) 2x3 (transB=false), c 2x2 float"},
		{"matmul output", func() { b.MatMul(mat(t, b, 2, 3), m23, m32, false, false) },
			"MatMul: shape mismatch: op(a) 2x3 (transA=false), op(b) 3x2 (transB=false), c 2x3 float"},
		{"matmul alias", func() { b.MatMul(m22, m22, m22, false, false) }, "MatMul: output aliases an input"},
		{"matmul byte", func() { b.MatMul(m23, bt, m32, false, false) }, "MatMul: tensor 2x3 byte is not of type float"},
		{"bias", func() { b.BiasActivate(m23, r12, backend.ReLU) }, "BiasActivate: bias 1x2 float does not match y 2x3 float (want 1x3)"},
		{"activation", func() { b.BiasActivate(m23, r13, backend.Activation(9)) }, "BiasActivate: unknown activation Activation(9)"},
		{"act grad", func() { b.ActivationGrad(m23, m32, backend.Tanh) }, "ActivationGrad: d 2x3 float and y 3x2 float differ in shape"},
		{"column sum", func() { b.ColumnSum(r12, m23) }, "ColumnSum: dst 1x2 float does not match src 2x3 float (want 1x3)"},
		{"bce shape", func() { b.LossGrad(s11, m22, m22, c21, backend.BinaryCrossEntropy) }, ""},
		{"loss not scalar", func() { b.LossGrad(r12, c21, c21, c21, backend.BinaryCrossEntropy) }, "LossGrad: loss must be 1x1, got 1x2 float"},
		{"mse target", func() { b.LossGrad(s11, m23, m23, m32, backend.MeanSquaredError) }, ""},
		{"softmax class", func() { b.LossGrad(s11, m23, m23, mat(t, b, 2, 1, 0, 3), backend.SoftmaxCrossEntropy) },
			"cpuref: LossGrad(softmax-ce): class label 3 outside 0..2"},
		{"count mse", func() { b.CountCorrect(s11, m22, m22, backend.MeanSquaredError) }, "CountCorrect: accuracy is not defined for mse"},
		{"gather cols", func() { b.Gather(m22, m23, idx, 0, 1) }, "Gather: dst 2x2 float and src 2x3 float differ in columns"},
		{"gather idx type", func() { b.Gather(m23, m23, m22, 0, 1) }, "Gather: idx 2x2 float must be of type index"},
		{"sgd", func() { b.SGD(m23, m32, s11, nil) }, "SGD: tensors 2x3 float and 3x2 float differ in shape"},
		{"sgd hp", func() { b.SGD(m23, m23, r13, nil) }, "SGD: hyperparameter table 1x3 float, want 1x4 per model"},
		{"sgd decay", func() { b.SGD(m23, m23, r14, m32) }, "SGD: decay 3x2 float and 2x3 float differ in shape"},
		{"grad norm table", func() { b.GradNormSq(r13, m23) }, "GradNormSq: hyperparameter table 1x3 float, want 1xN per model with N at least 4"},
		{"momentum", func() { b.Momentum(m23, m23, m32, r15, nil) }, "Momentum: tensors 2x3 float and 3x2 float differ in shape"},
		{"adam", func() { b.Adam(m23, m23, m23, m22, mat(t, b, 1, backend.AdamHPCols), nil, 1) }, "Adam: tensors 2x3 float and 2x2 float differ in shape"},
		{"fill byte", func() { b.Fill(bt, 1) }, "Fill: tensor 2x3 byte is not of type float"},
		{"gather product alias", func() {
			b.GatherMatMulBiasActivate(m23, m23, idx, 0, 1, m22, m32, r12, backend.ReLU, backend.Dropout{})
		},
			"GatherMatMulBiasActivate: x aliases src"},
		{"gather product shapes", func() {
			b.GatherMatMulBiasActivate(m23, mat(t, b, 4, 3), idx, 0, 1, m22, m23, r12, backend.ReLU, backend.Dropout{})
		},
			"MatMulBiasActivate: shape mismatch: x 2x3 float, w 2x3 float, y 2x2 float"},
		{"gather product rows", func() {
			b.GatherMatMulBiasActivate(m23, mat(t, b, 4, 3), idx, 1, 1, m22, m32, r12, backend.ReLU, backend.Dropout{})
		},
			"Gather: rows [1, 3) outside the 2 indices of idx"},
		{"weight grads shape", func() { b.MatMulColumnSum(m22, r12, m23, mat(t, b, 2, 2)) },
			"MatMulColumnSum: shape mismatch: x 2x3 float, dy 2x2 float, dw 2x2 float (want 3x2)"},
		{"weight grads bias", func() { b.MatMulColumnSum(m32, r13, m23, m22) },
			"MatMulColumnSum: db 1x3 float does not match dy 2x2 float (want 1x2)"},
		{"weight grads alias", func() { b.MatMulColumnSum(m32, r12, m23, m23) }, ""},
		{"loss count mse", func() {
			b.LossGradCount(s11, mat(t, b, 1, 1), mat(t, b, 2, 3), m23, mat(t, b, 2, 3), nil, 0, backend.MeanSquaredError, nil)
		},
			"LossGradCount: accuracy is not defined for mse"},
		{"loss count offset", func() {
			b.LossGradCount(s11, nil, mat(t, b, 2, 1), c21, mat(t, b, 2, 1), nil, 1, backend.BinaryCrossEntropy, nil)
		},
			"LossGradCount: offset 1 without an index list"},
		{"loss count indices", func() {
			b.LossGradCount(s11, nil, mat(t, b, 2, 1), c21, mat(t, b, 5, 1), idx, 1, backend.BinaryCrossEntropy, nil)
		},
			"LossGradCount: rows [1, 3) outside the 2 indices of idx"},
		{"loss count target cols", func() { b.LossGradCount(s11, nil, mat(t, b, 2, 3), m23, m22, idx, 0, backend.MeanSquaredError, nil) },
			"LossGradCount(mse): target 2x2 float, want 3 columns for out 2x3 float"},
		{"loss count alias", func() {
			b.LossGradCount(s11, s11, mat(t, b, 2, 1), c21, mat(t, b, 2, 1), nil, 0, backend.BinaryCrossEntropy, nil)
		},
			"LossGradCount: count aliases the loss or the gradient"},
		{"loss count index range", func() {
			b.LossGradCount(s11, nil, mat(t, b, 2, 1), c21, mat(t, b, 1, 1), idx, 0, backend.BinaryCrossEntropy, nil)
		},
			"cpuref: LossGradCount: index 1 outside the 1 rows of the target"},
		{"slice offset", func() { b.Slice(mat(t, b, 200, 1), 3, 1, 1) }, "Slice: offset 3 is not a multiple of 64 (SliceAlign)"},
		{"slice outside", func() { b.Slice(mat(t, b, 100, 1), 64, 6, 7) }, "Slice: 6x7 at offset 64 outside the 100 elements of 100x1 float"},
		{"slice byte", func() { b.Slice(bt, 0, 1, 1) }, "Slice: tensor 2x3 byte is not of type float"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == "" {
				assert.Panics(t, tc.f)
				return
			}
			assert.PanicsWithValue(t, tc.want, tc.f)
		})
	}
}

// TestClipping: GradNormSq writes the squared norm into the table, and the
// optimizers scale the gradient by min(1, c/(norm + 1e-6)) before the
// rest of the update (the weight decay after it, as in PyTorch).
func TestClipping(t *testing.T) {
	for _, tt := range []struct {
		name string
		clip float64
		wd   float64
		want []float64 // w after one SGD step at lr 1 from w = [1, 0], g = [3, 4] (norm 5)
	}{
		{"clipped", 1, 0, []float64{1 - 3/(5+1e-6), -4 / (5 + 1e-6)}},
		{"below the threshold", 10, 0, []float64{1 - 3, -4}},
		{"off", 0, 0, []float64{1 - 3, -4}},
		{"clipped, then decayed", 1, 0.5, []float64{1 - 3/(5+1e-6) - 0.5, -4 / (5 + 1e-6)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := cpuref.New()
			w, g := mat(t, b, 1, 2, 1, 0), mat(t, b, 1, 2, 3, 4)
			hp := mat(t, b, 1, backend.SGDHPCols, backend.WithClipNorm(backend.WithWeightDecay(backend.SGDHP(1), tt.wd), tt.clip)...)
			b.GradNormSq(hp, g)
			assert.InDelta(t, 25, read(t, b, hp)[backend.HPGradNormSq], tol)
			b.SGD(w, g, hp, nil)
			assert.InDeltaSlice(t, tt.want, read(t, b, w), tol)
		})
	}
}

// TestClassWeights: LossGradCount multiplies each row's loss and gradient
// by its class's weight, worked by hand for one binary row of each class
// and a softmax row.
func TestClassWeights(t *testing.T) {
	b := cpuref.New()
	// Binary: logits 0 (loss log 2, gradient 0.5 − t, over 2 rows).
	loss, grad := mat(t, b, 1, 1), mat(t, b, 2, 1)
	b.LossGradCount(loss, nil, grad, mat(t, b, 2, 1, 0, 0), mat(t, b, 2, 1, 0, 1), nil, 0, backend.BinaryCrossEntropy, mat(t, b, 1, 2, 1, 3))
	assert.InDelta(t, (1+3)*math.Ln2, read(t, b, loss)[0], tol)
	assert.InDeltaSlice(t, []float64{1 * 0.5 / 2, 3 * -0.5 / 2}, read(t, b, grad), tol)
	// Softmax: equal logits over 2 classes, class 1 of weight 4: loss 4·log 2,
	// gradient 4·([0.5, 0.5] − [0, 1]).
	loss, grad = mat(t, b, 1, 1), mat(t, b, 1, 2)
	b.LossGradCount(loss, nil, grad, mat(t, b, 1, 2, 0, 0), mat(t, b, 1, 1, 1), nil, 0, backend.SoftmaxCrossEntropy, mat(t, b, 1, 2, 1, 4))
	assert.InDelta(t, 4*math.Ln2, read(t, b, loss)[0], tol)
	assert.InDeltaSlice(t, []float64{2, -2}, read(t, b, grad), tol)
	assert.PanicsWithValue(t, "LossGradCount(softmax-ce): class weights 1x3 float, want 1x2", func() {
		b.LossGradCount(loss, nil, grad, mat(t, b, 1, 2), mat(t, b, 1, 1, 1), nil, 0, backend.SoftmaxCrossEntropy, mat(t, b, 1, 3))
	})
	assert.PanicsWithValue(t, "LossGradCount: class weights 1x2 float for mse", func() {
		b.LossGradCount(loss, nil, grad, mat(t, b, 1, 2), mat(t, b, 1, 2), nil, 0, backend.MeanSquaredError, mat(t, b, 1, 2))
	})
}
