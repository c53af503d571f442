package linear_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/linear"
	"github.com/gputrain/gputrain/nn"
)

var (
	classicA = [][]float64{{5, 1, -1}, {2, -1, 1}, {1, 3, -2}}
	classicY = []float64{1, 4, 0}
)

func TestSolveLinearClassic(t *testing.T) {
	// The exact solution, by LU in float64.
	A := mat.NewDense(3, 3, nil)
	for i, r := range classicA {
		A.SetRow(i, r)
	}
	var exact mat.VecDense
	require.NoError(t, exact.SolveVec(A, mat.NewVecDense(3, classicY)))

	var iters []int
	var logged []float64
	x, err := linear.SolveLinear(context.Background(), cpuref.New(), classicA, classicY, 0.01, 10000, 1000,
		func(it int, loss float64) { iters = append(iters, it); logged = append(logged, loss) })
	require.NoError(t, err)
	require.Len(t, x, 3)
	for i := range x {
		// The exact solution is (5/7, 31/7, 7). With the mean-loss gradient
		// 2Aᵀ(Ax−y)/3 the slowest mode contracts by ~0.9994 an iteration, so
		// 10000 iterations get within ~5e-3.
		assert.InDelta(t, exact.AtVec(i), x[i], 1e-2, "x[%d]", i)
	}
	assert.Equal(t, []int{0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000}, iters)
	assert.Equal(t, 5.666666666666667, logged[0], "iteration 0: mean(y²) at x = 0, as the tutorial prints it")
	for i := 1; i < len(logged); i++ {
		assert.LessOrEqual(t, logged[i], logged[i-1])
	}
	assert.Less(t, logged[len(logged)-1], 1e-5)
}

func TestSolveLinearLogsLastIteration(t *testing.T) {
	tests := []struct {
		iters, every int
		want         []int
	}{
		{10, 4, []int{0, 4, 8, 10}},
		{8, 4, []int{0, 4, 8}},
		{3, 5, []int{0, 3}},
		{5, 0, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%d", tt.iters, tt.every), func(t *testing.T) {
			var got []int
			_, err := linear.SolveLinear(context.Background(), cpuref.New(), classicA, classicY, 0.01, tt.iters, tt.every,
				func(it int, _ float64) { got = append(got, it) })
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSolveLinearErrors(t *testing.T) {
	tests := []struct {
		name string
		A    [][]float64
		y    []float64
		lr   float64
		want string
	}{
		{"empty", nil, nil, 0.01, "empty"},
		{"ragged", [][]float64{{1, 2}, {3}}, []float64{1, 2}, 0.01, "row 1 of A has 1 entries"},
		{"short y", classicA, []float64{1}, 0.01, "y has 1 entries"},
		{"bad lr", classicA, classicY, 0, "learning rate"},
		{"diverges", classicA, classicY, 10, "smaller learning rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := linear.SolveLinear(context.Background(), cpuref.New(), tt.A, tt.y, tt.lr, 1000, 100, nil)
			assert.ErrorContains(t, err, tt.want)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	x, err := linear.SolveLinear(ctx, cpuref.New(), classicA, classicY, 0.01, 10, 0, nil)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []float64{0, 0, 0}, x)
}

func TestRegressMatchesClosedForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	s := &nn.Set{Name: "line", Rows: 200, Cols: 2}
	for range s.Rows {
		x0, x1 := 50+10*rng.NormFloat64(), -3+0.5*rng.NormFloat64()
		s.Features = append(s.Features, x0, x1)
		s.Labels = append(s.Labels, 1.5*x0-4*x1+7+0.3*rng.NormFloat64())
	}
	b := cpuref.New()
	r, err := linear.Regress(context.Background(), b, s, linear.RegressConfig{Epochs: 200, LR: 0.1, Restarts: 3, Seed: 1}, nn.Hooks{})
	require.NoError(t, err)
	defer r.Model.Free()
	require.NoError(t, r.ExactErr)
	assert.InDelta(t, 1.5, r.ExactCoef[0], 0.05)
	assert.InDelta(t, -4, r.ExactCoef[1], 0.2)
	for j := range r.Coef {
		assert.InDelta(t, r.ExactCoef[j], r.Coef[j], 1e-6, "coef %d", j)
	}
	assert.InDelta(t, r.ExactIntercept, r.Intercept, 1e-4)
	assert.InDelta(t, r.ExactMSE, r.MSE, 1e-9)
	assert.Less(t, r.Restart, 3)

	// The kept model predicts in original units.
	p, err := r.Model.PredictRows([][]float64{{50, -3}, {60, -2}}, 0)
	require.NoError(t, err)
	for i, x := range [][]float64{{50, -3}, {60, -2}} {
		want := r.Intercept + r.Coef[0]*x[0] + r.Coef[1]*x[1]
		assert.InDelta(t, want, p.Outputs[i][0], 1e-6)
	}
	assert.Nil(t, p.Classes)
	assert.False(t, math.IsNaN(r.History.Last().Loss))

	_, err = linear.Regress(context.Background(), b, pixelSet(10, 1), linear.RegressConfig{Epochs: 1, LR: 0.1}, nn.Hooks{})
	assert.ErrorContains(t, err, "float features")
}

// TestRegressDegenerate: a regression without an answer is an error that
// names the column, before any training.
func TestRegressDegenerate(t *testing.T) {
	set := func(rows int, x0, x1, y func(i int) float64) *nn.Set {
		s := &nn.Set{Name: "t.csv", Rows: rows, Cols: 2, FeatureNames: []string{"area", "rooms"}, TargetNames: []string{"price"}}
		for i := range rows {
			s.Features = append(s.Features, x0(i), x1(i))
			s.Labels = append(s.Labels, y(i))
		}
		return s
	}
	id := func(i int) float64 { return float64(i) }
	sq := func(i int) float64 { return float64(i * i) }
	tests := []struct {
		name string
		s    *nn.Set
		want string
	}{
		{"fewer rows than coefficients", set(2, id, sq, id), "t.csv: 2 rows for 3 coefficients (2 features and the intercept): the fit is not determined; give at least 3 rows"},
		{"constant feature", set(10, id, func(int) float64 { return 4 }, sq), `t.csv: column "rooms" holds 4 in all 10 rows: a constant column's coefficient cannot be told apart from the intercept`},
		{"constant target", set(10, id, sq, func(int) float64 { return 7 }), `t.csv: the target "price" holds 7 in all 10 rows: nothing to fit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := 0
			_, err := linear.Regress(context.Background(), cpuref.New(), tt.s, linear.RegressConfig{Epochs: 10, LR: 0.1},
				nn.Hooks{Step: func(nn.Progress) { steps++ }})
			assert.ErrorContains(t, err, tt.want)
			assert.Zero(t, steps, "nothing trained")
		})
	}
}

// TestLeastSquaresCondition: the closed form is called well conditioned on
// the standardised design (a column of years near 2000 is fine, although
// the raw design's condition is in the millions) and not when two columns
// are (nearly) collinear: the error is a mat.Condition with the number.
func TestLeastSquaresCondition(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	make3 := func(x1 func(x0 float64) float64) *nn.Set {
		s := &nn.Set{Name: "c", Rows: 100, Cols: 2}
		for range s.Rows {
			x0 := 2000 + rng.NormFloat64()
			s.Features = append(s.Features, x0, x1(x0))
			s.Labels = append(s.Labels, 3*x0+rng.NormFloat64())
		}
		return s
	}
	good := make3(func(float64) float64 { return rng.NormFloat64() })
	coef, _, err := linear.LeastSquares(good)
	require.NoError(t, err)
	assert.InDelta(t, 3, coef[0], 0.5)

	for name, x1 := range map[string]func(float64) float64{
		"collinear":        func(x0 float64) float64 { return 2*x0 - 1 },
		"nearly collinear": func(x0 float64) float64 { return x0 + 1e-9*rng.NormFloat64() },
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := linear.LeastSquares(make3(x1))
			var c mat.Condition
			require.ErrorAs(t, err, &c)
			assert.Greater(t, float64(c), linear.MaxCondition)
			t.Logf("%v", err)
		})
	}
}
