package backend_test

import (
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
func (s shapeOnly) Models() int         { return 1 }

func TestCheckAdam(t *testing.T) {
	f := shapeOnly{2, 3, backend.Float}
	tests := []struct {
		name       string
		w, g, m, v backend.Tensor
		step       int
		panic      string
	}{
		{"fine", f, f, f, f, 1, ""},
		{"step 0", f, f, f, f, 0, "Adam: step 0 must be at least 1"},
		{"step -2", f, f, f, f, -2, "Adam: step -2 must be at least 1"},
		{"moment of another shape", f, f, f, shapeOnly{3, 2, backend.Float}, 1, "Adam: tensors 2x3 float and 3x2 float differ in shape"},
		{"byte gradient", f, shapeOnly{2, 3, backend.Byte}, f, f, 1, "Adam: tensor 2x3 byte is not of type float"},
	}
	for _, tt := range tests {
		check := func() { backend.CheckAdam(tt.w, tt.g, tt.m, tt.v, tt.step) }
		if tt.panic == "" {
			assert.NotPanics(t, check, tt.name)
		} else {
			assert.PanicsWithValue(t, tt.panic, check, tt.name)
		}
	}
}
