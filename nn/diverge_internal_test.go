package nn

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDivergenceRule: the reference is the larger of the first step's loss
// and the trivial prediction's, and a reading is bad past 100 times it.
func TestDivergenceRule(t *testing.T) {
	reg := &Set{Rows: 4, Cols: 1, Features: []float64{0, 0, 0, 0}, Labels: []float64{1000, 1002, 998, 1000}}
	tests := []struct {
		name       string
		m          *Model
		s          *Set
		first      float64
		null       float64 // want
		ok, bad    float64 // a reading within the limit and one past it
		wantReason string
	}{
		{"binary, resumed near 0: the floor", &Model{Spec: Spec{Head: BinaryHead, Outputs: 1}}, nil, 1e-9,
			math.Ln2, 69, 70, "ln 2, the loss of a uniform guess"},
		{"softmax, started above a guess", &Model{Spec: Spec{Head: SoftmaxHead, Outputs: 10}}, nil, 5,
			math.Log(10), 499, 501, "the loss at this run's first step"},
		{"regression, unscaled targets", &Model{Spec: Spec{Head: RegressionHead, Outputs: 1}}, reg, 0.5,
			(1000*1000*2 + 1002*1002 + 998*998) / 4.0, 1.00000199e8, 1.00000201e8, "the loss of predicting 0"},
		{"regression, standardised targets", &Model{Spec: Spec{Head: RegressionHead, Outputs: 1},
			Scaling: Scaling{TargetMean: []float64{1000}, TargetStd: []float64{math.Sqrt(2)}}}, reg, 0.5,
			1, 99, 101, "the loss of predicting 0"},
		{"a NaN first step", &Model{Spec: Spec{Head: BinaryHead, Outputs: 1}}, nil, math.NaN(),
			math.Ln2, 69, math.NaN(), "uniform guess"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDivergence(tt.m, tt.s, 0.1)
			assert.InEpsilon(t, tt.null, d.null, 1e-12)
			d.start(tt.first)
			assert.Contains(t, d.why, tt.wantReason)
			assert.Empty(t, d.judge(tt.ok))
			assert.NotEmpty(t, d.judge(tt.bad))
			assert.Error(t, d.check(tt.bad, 3, 5, 9))
			assert.NoError(t, d.check(tt.ok, 3, 5, 9))
		})
	}
}
