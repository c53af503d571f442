package backend_test

import (
	"math"
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/stretchr/testify/assert"
)

func TestPack(t *testing.T) {
	tests := []struct {
		counts  []int
		offsets []int
		total   int
	}{
		{nil, []int{}, 0},
		{[]int{1}, []int{0}, 64},
		{[]int{64, 1, 65}, []int{0, 64, 128}, 256},
		{[]int{20 * 16, 16, 16 * 8, 8}, []int{0, 320, 384, 512}, 576},
	}
	for _, tt := range tests {
		offsets, total := backend.Pack(tt.counts...)
		assert.Equal(t, tt.offsets, offsets, "%v", tt.counts)
		assert.Equal(t, tt.total, total, "%v", tt.counts)
		for _, o := range offsets {
			assert.Zero(t, o%backend.SliceAlign)
		}
	}
	assert.PanicsWithValue(t, "Pack: tensor 1 has 0 elements", func() { backend.Pack(3, 0) })
}

// shapeOnly is a Tensor with a shape and a type, for the Check functions.
type shapeOnly struct {
	rows, cols int
	dt         backend.DType
}

func (s shapeOnly) Rows() int            { return s.rows }
func (s shapeOnly) Cols() int            { return s.cols }
func (s shapeOnly) DType() backend.DType { return s.dt }
func (s shapeOnly) Models() int          { return 1 }

// arrayOf is a shapeOnly of models models.
type arrayOf struct {
	shapeOnly
	models int
}

func (a arrayOf) Models() int { return a.models }

func TestCheckAdam(t *testing.T) {
	f := shapeOnly{2, 3, backend.Float}
	hp := shapeOnly{1, backend.AdamHPCols, backend.Float}
	f3, hp3 := arrayOf{f, 3}, arrayOf{hp, 3}
	tests := []struct {
		name           string
		w, g, m, v, hp backend.Tensor
		step           int
		panic          string
		decay          backend.Tensor
	}{
		{"fine", f, f, f, f, hp, 1, "", nil},
		{"decay", f, f, f, f, hp, 1, "", f},
		{"shared decay", f3, f3, f3, f3, hp3, 1, "", f},
		{"decay of another shape", f, f, f, f, hp, 1, "Adam: decay 3x2 float and 2x3 float differ in shape", shapeOnly{3, 2, backend.Float}},
		{"byte decay", f, f, f, f, hp, 1, "Adam: tensor 2x3 byte is not of type float", shapeOnly{2, 3, backend.Byte}},
		{"decay of other models", f3, f3, f3, f3, hp3, 1, "Adam: input 2x3 float (2 models) has 2 models for outputs of 3 (want 3 or 1)", arrayOf{f, 2}},
		{"array", f3, f3, f3, f3, hp3, 1, "", nil},
		{"array, shared gradient and table", f3, f, f3, f3, hp, 1, "", nil},
		{"step 0", f, f, f, f, hp, 0, "Adam: step 0 must be at least 1", nil},
		{"step -2", f, f, f, f, hp, -2, "Adam: step -2 must be at least 1", nil},
		{"moment of another shape", f, f, f, shapeOnly{3, 2, backend.Float}, hp, 1, "Adam: tensors 2x3 float and 3x2 float differ in shape", nil},
		{"byte gradient", f, shapeOnly{2, 3, backend.Byte}, f, f, hp, 1, "Adam: tensor 2x3 byte is not of type float", nil},
		{"narrow table", f, f, f, f, shapeOnly{1, 2, backend.Float}, 1, "Adam: hyperparameter table 1x2 float, want 1x8 per model", nil},
		{"moment of other models", f3, f3, f3, arrayOf{f, 2}, hp3, 1, "Adam: outputs 2x3 float (3 models) and 2x3 float (2 models) differ in models", nil},
		{"shared moment", f3, f3, f, f3, hp3, 1, "Adam: outputs 2x3 float (3 models) and 2x3 float differ in models", nil},
		{"table of other models", f3, f3, f3, f3, arrayOf{hp, 2}, 1, "Adam: input 1x8 float (2 models) has 2 models for outputs of 3 (want 3 or 1)", nil},
	}
	for _, tt := range tests {
		check := func() { backend.CheckAdam(tt.w, tt.g, tt.m, tt.v, tt.hp, tt.decay, tt.step) }
		if tt.panic == "" {
			assert.NotPanics(t, check, tt.name)
		} else {
			assert.PanicsWithValue(t, tt.panic, check, tt.name)
		}
	}
}

// TestCheckModels: every operation's outputs share one number of models N;
// an input has N models or 1; anything else panics naming the op and the
// shapes.
func TestCheckModels(t *testing.T) {
	x, w, y := shapeOnly{4, 3, backend.Float}, shapeOnly{3, 2, backend.Float}, shapeOnly{4, 2, backend.Float}
	bias, idx := shapeOnly{1, 2, backend.Float}, shapeOnly{8, 1, backend.Index}
	src := shapeOnly{10, 3, backend.Byte}
	x5, w5, y5, y3 := arrayOf{x, 5}, arrayOf{w, 5}, arrayOf{y, 5}, arrayOf{y, 3}
	y5b := y5 // a second tensor of y5's shape (distinct by address)
	tests := []struct {
		name  string
		check func()
		panic string
	}{
		{"one model", func() { backend.CheckMatMulBiasActivate(y, x, w, bias, backend.ReLU, backend.Dropout{}) }, ""},
		{"array", func() { backend.CheckMatMulBiasActivate(y5, x5, w5, arrayOf{bias, 5}, backend.ReLU, backend.Dropout{}) }, ""},
		{"shared input", func() { backend.CheckMatMulBiasActivate(y5, x, w5, bias, backend.ReLU, backend.Dropout{}) }, ""},
		{"input of other models", func() { backend.CheckMatMulBiasActivate(y5, x5, arrayOf{w, 3}, bias, backend.ReLU, backend.Dropout{}) },
			"MatMulBiasActivate: input 3x2 float (3 models) has 3 models for outputs of 5 (want 5 or 1)"},
		{"array into one model", func() { backend.CheckMatMul(y, x5, w, false, false) },
			"MatMul: input 4x3 float (5 models) has 5 models for outputs of 1 (want 1 or 1)"},
		{"per-model index list", func() {
			backend.CheckGatherMatMulBiasActivate(arrayOf{x, 5}, arrayOf{shapeOnly{10, 3, backend.Float}, 1}, arrayOf{idx, 5}, 4, y5, w5, bias, backend.Tanh, backend.Dropout{})
		}, ""},
		{"gather outputs disagree", func() {
			backend.CheckGatherMatMulBiasActivate(arrayOf{x, 3}, src, idx, 0, y5, w5, bias, backend.Tanh, backend.Dropout{})
		}, "GatherMatMulBiasActivate: outputs 4x2 float (5 models) and 4x3 float (3 models) differ in models"},
		{"loss of other models", func() {
			backend.CheckLossGradCount(arrayOf{shapeOnly{1, 1, backend.Float}, 3}, nil, &y5, &y5b, shapeOnly{10, 2, backend.Float}, idx, 0, backend.MeanSquaredError, nil)
		}, "LossGradCount: outputs 4x2 float (5 models) and 1x1 float (3 models) differ in models"},
		{"column sums", func() { backend.CheckMatMulColumnSum(arrayOf{w, 5}, arrayOf{bias, 5}, x5, y3) },
			"MatMulColumnSum: input 4x2 float (3 models) has 3 models for outputs of 5 (want 5 or 1)"},
		{"fill", func() { backend.CheckSame("Fill", y3) }, ""},
	}
	for _, tt := range tests {
		if tt.panic == "" {
			assert.NotPanics(t, tt.check, tt.name)
		} else {
			assert.PanicsWithValue(t, tt.panic, tt.check, tt.name)
		}
	}
	assert.PanicsWithValue(t, "NewArray: 0 models, want at least 1", func() { backend.CheckNewArray(0, 1, 1, backend.Float) })
	assert.NotPanics(t, func() { backend.CheckWrite("WriteFloats", arrayOf{bias, 3}, backend.Float, 6) })
	assert.PanicsWithValue(t, "WriteFloats: 2 values for tensor 1x2 float (3 models) (want 6)",
		func() { backend.CheckWrite("WriteFloats", arrayOf{bias, 3}, backend.Float, 2) })
}

// TestCheckDropout: a probability outside [0, 1) or a negative layer panics
// with a message naming the operation; the zero Dropout is off.
func TestCheckDropout(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    backend.Dropout
		want string
	}{
		{"off", backend.Dropout{}, ""},
		{"on", backend.Dropout{P: 0.5, Seed: 1, Step: 1 << 40, Layer: 2, Model: 3}, ""},
		{"negative", backend.Dropout{P: -0.1}, "MatMulBiasActivate: dropout probability -0.1 outside [0, 1)"},
		{"one", backend.Dropout{P: 1}, "MatMulBiasActivate: dropout probability 1 outside [0, 1)"},
		{"NaN", backend.Dropout{P: math.NaN()}, "MatMulBiasActivate: dropout probability NaN outside [0, 1)"},
		{"negative layer", backend.Dropout{P: 0.5, Layer: -1}, "MatMulBiasActivate: dropout layer -1 outside [0, 2³²)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := func() { backend.CheckDropout("MatMulBiasActivate", tc.d) }
			if tc.want == "" {
				assert.NotPanics(t, f)
				return
			}
			assert.PanicsWithValue(t, tc.want, f)
		})
	}
	assert.False(t, backend.Dropout{Seed: 5}.On())
	// A P whose threshold is 0 drops nothing and scales nothing: off.
	assert.False(t, backend.Dropout{P: 0x1p-33}.On())
	assert.True(t, backend.Dropout{P: 0x1p-32}.On())
	assert.Equal(t, uint32(1), backend.Dropout{P: 0x1p-32}.Threshold())
	d := backend.Dropout{P: 0.25}
	assert.Equal(t, uint32(1<<30), d.Threshold())
	assert.Equal(t, 4.0/3, d.Scale())
	// Model k of an array draws the mask of a lone model with Model+k.
	arr, lone := backend.Dropout{P: 0.5, Seed: 9, Model: 1}, backend.Dropout{P: 0.5, Seed: 9, Model: 3}
	th := arr.Threshold()
	for e := range 64 {
		assert.Equal(t, lone.Keep(th, 0, e), arr.Keep(th, 2, e), "element %d", e)
	}
}
