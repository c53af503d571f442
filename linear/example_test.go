package linear_test

import (
	"context"
	"fmt"

	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/linear"
	"github.com/gputrain/gputrain/nn"
)

// Solve the classic 3×3 system by gradient descent on the backend.
func ExampleSolveLinear() {
	A := [][]float64{{5, 1, -1}, {2, -1, 1}, {1, 3, -2}}
	y := []float64{1, 4, 0}
	x, err := linear.SolveLinear(context.Background(), cpuref.New(), A, y, 0.01, 10000, 0, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("x ≈ [%.2f %.2f %.2f] (exact 5/7, 31/7, 7)\n", x[0], x[1], x[2])
	// Output:
	// x ≈ [0.71 4.43 7.00] (exact 5/7, 31/7, 7)
}

// Fit a line by gradient descent and compare with the closed form.
func ExampleRegress() {
	set := &nn.Set{Name: "line", Rows: 5, Cols: 1,
		Features: []float64{1, 2, 3, 4, 5},
		Labels:   []float64{3, 5, 7, 9, 11}} // y = 2x + 1
	r, err := linear.Regress(context.Background(), cpuref.New(), set,
		linear.RegressConfig{Epochs: 500, LR: 0.1, Restarts: 2}, nn.Hooks{})
	if err != nil {
		panic(err)
	}
	defer r.Model.Free()
	fmt.Printf("gradient descent: y = %.3f·x + %.3f\n", r.Coef[0], r.Intercept)
	fmt.Printf("closed form:      y = %.3f·x + %.3f\n", r.ExactCoef[0], r.ExactIntercept)
	// Output:
	// gradient descent: y = 2.000·x + 1.000
	// closed form:      y = 2.000·x + 1.000
}
