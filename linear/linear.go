// Package linear solves linear systems and fits linear regressions by
// gradient descent on any backend, beside float64 closed forms that check
// them: the classic tutorial's A·x = y and the regression with restarts.
package linear

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/nn"
)

// SolveLinear solves A·x ≈ y by gradient descent on the mean squared error
// L = mean((A·x − y)²), starting from x = 0, on backend b: each iteration
// records A·x (MatMul), the loss gradient 2(A·x−y)/n (LossGrad with
// MeanSquaredError on the n×1 residual), Aᵀ·grad (MatMul with transA) and an
// SGD step with learning rate lr, with Kahan-compensated updates
// (SGDCompensated): near convergence each update is far below float32's
// resolution at x, and without compensation a float32 device drifts from
// the float64 path by percents of the loss. A is n×k (rows of equal
// length), y has n entries, and x comes back with k.
//
// If every > 0, the loss mean((A·x − y)²) is passed to log (which may be
// nil) for iteration 0, the starting point x = 0 (mean(y²): 5.666666666666667
// for the classic 3×3 system), as the classic tutorial prints it, and then
// after every every-th iteration (and after the last one, if iters is not a
// multiple of every): x is read back and the loss evaluated on the host in
// float64, so the printed loss carries no float32 cancellation.
// A non-finite loss or solution, or a loss more than nn.DivergenceFactor times
// the loss at x = 0 (judged at each logged iteration and at the end, on the
// x read back for them: the blow-up is caught within every iterations),
// returns a *nn.DivergedError naming the iterations since the last reading.
// Cancelling ctx
// stops after the current iteration and returns the x so far with an error
// wrapping ctx.Err(). Malformed inputs and device failures are errors.
func SolveLinear(ctx context.Context, b backend.Backend, A [][]float64, y []float64, lr float64, iters int, every int, log func(iter int, loss float64)) (x []float64, err error) {
	flat, err := checkLinear(A, y, lr, iters)
	if err != nil {
		return nil, err
	}
	ls, err := newLinearSolver(b, A, y, flat, lr)
	defer ls.free()
	if err != nil {
		return nil, err
	}
	if every > 0 && log != nil {
		log(0, ls.div.Ref())
	}
	done := ctx.Done()
	for it := 1; it <= iters; it++ {
		if done != nil {
			select {
			case <-done:
				x, err := ls.readX()
				if err != nil {
					return nil, err
				}
				return x, fmt.Errorf("linear: SolveLinear stopped after iteration %d: %w", it-1, ctx.Err())
			default:
			}
		}
		ls.iterate()
		if every > 0 && (it%every == 0 || it == iters) {
			if err := ls.log(it, log); err != nil {
				return nil, err
			}
		}
	}
	return ls.finish(iters)
}

// checkLinear checks SolveLinear's inputs and returns A's rows laid end to
// end.
func checkLinear(A [][]float64, y []float64, lr float64, iters int) (flat []float64, err error) {
	n := len(A)
	if n == 0 || len(A[0]) == 0 {
		return nil, errors.New("linear: SolveLinear: A is empty")
	}
	k := len(A[0])
	flat = make([]float64, 0, n*k)
	for i, r := range A {
		if len(r) != k {
			return nil, fmt.Errorf("linear: SolveLinear: row %d of A has %d entries, row 0 has %d", i, len(r), k)
		}
		flat = append(flat, r...)
	}
	if len(y) != n {
		return nil, fmt.Errorf("linear: SolveLinear: y has %d entries for the %d rows of A", len(y), n)
	}
	if !(lr > 0) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("linear: SolveLinear: learning rate %v, want a positive finite number", lr)
	}
	if iters < 1 {
		return nil, fmt.Errorf("linear: SolveLinear: %d iterations, want at least 1", iters)
	}
	return flat, nil
}

// linearSolver is the state of one SolveLinear call: the system on the
// host, its tensors on the device and the divergence rule, whose reference
// is the loss at x = 0.
type linearSolver struct {
	b     backend.Backend
	A     [][]float64
	y     []float64
	lr    float64
	div   nn.LossCheck
	aT    backend.Tensor // A, n×k
	xT    backend.Tensor // x, k×1
	yT    backend.Tensor // y, n×1
	out   backend.Tensor // A·x
	grad  backend.Tensor // the loss gradient 2(A·x−y)/n
	gx    backend.Tensor // Aᵀ·grad
	comp  backend.Tensor // Kahan compensation of x
	hp    backend.Tensor // [lr], SGDCompensated's table
	loss  backend.Tensor
	alloc allocator
	// lastRead is the last iteration whose x was read and judged.
	lastRead int
}

// newLinearSolver allocates the tensors of SolveLinear's system A·x ≈ y
// (flat is A's rows end to end) with a, writes A and y and sets x = 0.
func newLinearSolver(b backend.Backend, A [][]float64, y, flat []float64, lr float64) (*linearSolver, error) {
	n, k := len(A), len(A[0])
	ls := &linearSolver{b: b, A: A, y: y, lr: lr, div: nn.NewLossCheck(meanSquare(y), lr)}
	a := &ls.alloc
	a.b = b
	ls.aT = a.new(n, k, backend.Float)
	ls.xT = a.new(k, 1, backend.Float)
	ls.yT = a.new(n, 1, backend.Float)
	ls.out = a.new(n, 1, backend.Float)
	ls.grad = a.new(n, 1, backend.Float)
	ls.gx = a.new(k, 1, backend.Float)
	ls.comp = a.new(k, 1, backend.Float)
	ls.loss = a.new(1, 1, backend.Float)
	ls.hp = a.new(1, backend.SGDHPCols, backend.Float)
	if a.err != nil {
		ls.free()
		return nil, fmt.Errorf("linear: SolveLinear on a %dx%d system: %w", n, k, a.err)
	}
	if err := ls.b.WriteFloats(ls.aT, flat); err != nil {
		ls.free()
		return nil, fmt.Errorf("linear: SolveLinear: writing A: %w", err)
	}
	if err := ls.b.WriteFloats(ls.yT, y); err != nil {
		ls.free()
		return nil, fmt.Errorf("linear: SolveLinear: writing y: %w", err)
	}
	if err := ls.b.WriteFloats(ls.hp, backend.SGDHP(lr)); err != nil {
		ls.free()
		return nil, fmt.Errorf("linear: SolveLinear: writing the learning rate: %w", err)
	}
	ls.b.Fill(ls.xT, 0)
	ls.b.Fill(ls.comp, 0)
	return ls, nil
}

// meanSquare is mean(y²), the loss at x = 0 (see nn.DivergenceFactor): sum,
// then divide, as numpy's mean does.
func meanSquare(y []float64) float64 {
	sum := 0.0
	for _, v := range y {
		sum += v * v
	}
	return sum / float64(len(y))
}

// iterate records one iteration: A·x, the loss gradient, Aᵀ·grad and the
// compensated SGD step.
func (ls *linearSolver) iterate() {
	b := ls.b
	b.MatMul(ls.out, ls.aT, ls.xT, false, false)
	b.LossGrad(ls.loss, ls.grad, ls.out, ls.yT, backend.MeanSquaredError)
	b.MatMul(ls.gx, ls.aT, ls.grad, true, false)
	b.SGDCompensated(ls.xT, ls.gx, ls.comp, ls.hp)
}

// log reads x after iteration it, judges its loss by the divergence rule
// over the iterations since the last reading and passes it to log (which
// may be nil).
func (ls *linearSolver) log(it int, log func(iter int, loss float64)) error {
	xs, err := ls.readX()
	if err != nil {
		return fmt.Errorf("linear: SolveLinear: at iteration %d: %w", it, err)
	}
	mean := ls.lossOf(xs)
	if err := ls.div.Check(mean, ls.lastRead+1, it); err != nil {
		return err
	}
	ls.lastRead = it
	if log != nil {
		log(it, mean)
	}
	return nil
}

// finish reads x after the last of iters iterations and judges it: a
// non-finite entry, or (when no reading judged the last iteration) its
// loss, is a *nn.DivergedError.
func (ls *linearSolver) finish(iters int) ([]float64, error) {
	x, err := ls.readX()
	if err != nil {
		return nil, err
	}
	for i, v := range x {
		if !finite(v) {
			return nil, ls.div.Diverged(ls.lastRead+1, iters, fmt.Sprintf("x[%d] is %v", i, v))
		}
	}
	if ls.lastRead < iters { // not judged yet: every is 0
		if err := ls.div.Check(ls.lossOf(x), ls.lastRead+1, iters); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// readX returns the compensated solution x − c.
func (ls *linearSolver) readX() ([]float64, error) {
	x, err := ls.b.ReadFloats(ls.xT)
	if err != nil {
		return nil, fmt.Errorf("linear: SolveLinear: reading x: %w", err)
	}
	c, err := ls.b.ReadFloats(ls.comp)
	if err != nil {
		return nil, fmt.Errorf("linear: SolveLinear: reading x: %w", err)
	}
	for i := range x {
		x[i] -= c[i]
	}
	return x, nil
}

// lossOf is mean((A·x − y)²) in float64 on the host.
func (ls *linearSolver) lossOf(xs []float64) float64 {
	sum := 0.0
	for i, row := range ls.A {
		r := -ls.y[i]
		for j, v := range row {
			r += v * xs[j]
		}
		sum += r * r
	}
	return sum / float64(len(ls.A))
}

// RegressConfig configures Regress.
type RegressConfig struct {
	// Epochs, Batch, LR, Optimizer and Seed are as in nn.Config; features and
	// targets are always standardised.
	Epochs, Batch int
	LR            float64
	Optimizer     nn.Optimizer
	Seed          uint64
	// Restarts is the number of random starts (0 means 1); start r draws
	// its initial weights from Seed+r, and the one with the lowest training
	// error is kept.
	Restarts int
}

// Regression is the result of Regress: a linear fit y ≈ Coef·x + Intercept
// in the data's original units, by gradient descent and in closed form.
type Regression struct {
	// Coef (one per feature) and Intercept are the gradient-descent fit.
	Coef      []float64
	Intercept float64
	// MSE is the fit's mean squared error on the training set, in original
	// units, computed on the host.
	MSE float64
	// ExactCoef, ExactIntercept and ExactMSE are the least-squares solution
	// computed in float64 with gonum (QR), and ExactCond the condition
	// number of its design (see LeastSquares). ExactErr is non-nil (a
	// wrapped mat.Condition holding ExactCond) when the design is not well
	// conditioned, above MaxCondition: then the exact values are a best
	// effort that should not be reported as the answer.
	ExactCoef      []float64
	ExactIntercept float64
	ExactMSE       float64
	ExactCond      float64
	ExactErr       error
	// Restart is the index of the kept start, and History its training.
	Restart int
	History nn.History
	// Model is the kept model (a nn.RegressionHead with no hidden layers and
	// the standardisation in its Scaling), for Predict and Save. The caller
	// frees it.
	Model *nn.Model
}

// Regress fits a linear regression to the float features and the single
// target of s on backend b: a nn.RegressionHead model with no hidden layers on
// standardised features and target, trained cfg.Restarts times from
// different random starts, keeping the best. Coefficients come back in
// original units beside the closed-form least-squares solution. Cancelling
// ctx, divergence, bad data and device failures are returned as errors (the
// best model so far, if any, still comes back with a cancellation).
//
// A degenerate set is an error that names the column (s.FeatureNames and
// s.TargetNames, where set): fewer rows than coefficients (the features
// and the intercept: the fit is not determined), a feature column holding
// one value in every row (its coefficient cannot be told apart from the
// intercept) and a target holding one value (nothing to fit).
func Regress(ctx context.Context, b backend.Backend, s *nn.Set, cfg RegressConfig, hooks nn.Hooks) (*Regression, error) {
	if s == nil || s.Pixels != nil {
		return nil, errors.New("linear: Regress needs a set of float features")
	}
	spec := nn.Spec{Inputs: s.Cols, Outputs: 1, Head: nn.RegressionHead, Activation: backend.Identity}
	if err := nn.CheckSet(s, spec); err != nil {
		return nil, err
	}
	if err := CheckRegression(s); err != nil {
		return nil, err
	}
	sc, err := nn.FitScaling(s, spec)
	if err != nil {
		return nil, err
	}
	restarts := max(cfg.Restarts, 1)
	tc := nn.Config{Epochs: cfg.Epochs, Batch: cfg.Batch, LR: cfg.LR, Optimizer: cfg.Optimizer, Seed: cfg.Seed}
	var best *Regression
	for r := range restarts {
		m, err := nn.NewModel(b, spec, cfg.Seed+uint64(r))
		if err != nil {
			return best, err
		}
		m.Scaling = sc
		h, err := nn.Train(ctx, b, m, s, tc, hooks)
		if err != nil {
			m.Free()
			if best != nil && ctx.Err() != nil {
				return best, err
			}
			best.free()
			return nil, &startError{start: r, err: err}
		}
		ps, err := m.Params()
		if err != nil {
			m.Free()
			best.free()
			return nil, err
		}
		res := &Regression{Coef: make([]float64, s.Cols), Restart: r, History: h, Model: m}
		sy, my := sc.TargetStd[0], sc.TargetMean[0]
		res.Intercept = my + sy*ps[0].B[0]
		for j := range res.Coef {
			res.Coef[j] = sy * ps[0].W[j] / sc.FeatureStd[j]
			res.Intercept -= res.Coef[j] * sc.FeatureMean[j]
		}
		res.MSE = linearMSE(s, res.Coef, res.Intercept)
		if best == nil || res.MSE < best.MSE {
			best.free()
			best = res
		} else {
			m.Free()
		}
	}
	best.ExactCoef, best.ExactIntercept, best.ExactCond, best.ExactErr = leastSquares(s)
	best.ExactMSE = linearMSE(s, best.ExactCoef, best.ExactIntercept)
	return best, nil
}

// CheckRegression names what makes s a regression without an answer, as
// Regress does first: fewer rows than coefficients, a constant feature
// column, a constant target (see Regress). Call it to fail before opening a
// device.
func CheckRegression(s *nn.Set) error {
	k := s.Cols
	if s.Rows < k+1 {
		return fmt.Errorf("linear: Regress on %s: %d rows for %d coefficients (%d features and the intercept): the fit is not determined; give at least %d rows, or fewer features",
			s.Name, s.Rows, k+1, k, k+1)
	}
	for j := range k {
		if constantColumn(s, j) {
			return fmt.Errorf("linear: Regress on %s: column %q holds %v in all %d rows: a constant column's coefficient cannot be told apart from the intercept; leave it out",
				s.Name, featureName(s, j), s.Feature(0, j), s.Rows)
		}
	}
	t0 := s.Labels[0]
	for _, v := range s.Labels[1:s.Rows] {
		if v != t0 {
			return nil
		}
	}
	target := "the target"
	if len(s.TargetNames) > 0 {
		target = fmt.Sprintf("the target %q", s.TargetNames[0])
	}
	return fmt.Errorf("linear: Regress on %s: %s holds %v in all %d rows: nothing to fit", s.Name, target, t0, s.Rows)
}

func featureName(s *nn.Set, j int) string {
	if j < len(s.FeatureNames) {
		return s.FeatureNames[j]
	}
	return fmt.Sprintf("feature %d", j)
}

// startError is an error of one of Regress's starts. Its message is made
// when asked for, so that a *nn.DivergedError in it may still be given its
// RateName.
type startError struct {
	start int
	err   error
}

func (e *startError) Error() string {
	return fmt.Sprintf("linear: Regress start %d: %v", e.start, e.err)
}
func (e *startError) Unwrap() error { return e.err }

func (r *Regression) free() {
	if r != nil && r.Model != nil {
		r.Model.Free()
	}
}

// MaxCondition is the largest condition number of a least-squares design
// (see LeastSquares) that LeastSquares calls well conditioned. Float64 QR
// computes the coefficients to about 2⁻⁵³·κ² relative (times the ratio of
// the residual to the fit; Golub & Van Loan, 5.3.8): 10⁻⁶ at κ = 10⁵, the
// six significant digits gputrain prints. Above it the coefficients are not
// determined individually (the features are nearly collinear: κ² is
// (1+ρ)/(1−ρ) for two features of correlation ρ, here ρ > 1 − 2·10⁻¹⁰).
const MaxCondition = 1e5

// LeastSquares returns the least-squares fit y ≈ coef·x + intercept of the
// features and single target of s, in float64 with gonum's QR, solved on
// the centred and standardised features (so that neither the intercept nor
// the columns' units inflate the condition). The error is non-nil when the
// system is not well conditioned: a wrapped mat.Condition holding the
// condition number κ of the standardised design (its largest singular
// value over its smallest; +Inf with a constant column) when κ exceeds
// MaxCondition; the values are then a best effort.
func LeastSquares(s *nn.Set) (coef []float64, intercept float64, err error) {
	coef, intercept, _, err = leastSquares(s)
	return coef, intercept, err
}

// leastSquares is LeastSquares, also returning κ.
func leastSquares(s *nn.Set) (coef []float64, intercept, cond float64, err error) {
	k, n := s.Cols, s.Rows
	sc, err := nn.FitScaling(s, nn.Spec{Inputs: k, Outputs: 1, Head: nn.RegressionHead, Activation: backend.Identity})
	if err != nil {
		return nil, 0, 0, err
	}
	mean, std := sc.FeatureMean, sc.FeatureStd // a constant column's std is 1 there
	var ym float64
	for _, v := range s.Labels[:n] {
		ym += v
	}
	ym /= float64(n)
	// The columns that vary; a constant one gets coefficient 0.
	var cols []int
	for j := range k {
		if !constantColumn(s, j) {
			cols = append(cols, j)
		}
	}
	coef = make([]float64, k)
	intercept = ym
	if len(cols) < k {
		cond = math.Inf(1)
	}
	if len(cols) > 0 && n > len(cols) {
		Z := mat.NewDense(n, len(cols), nil)
		yc := mat.NewVecDense(n, nil)
		for i := range n {
			for c, j := range cols {
				Z.Set(i, c, (s.Feature(i, j)-mean[j])/std[j])
			}
			yc.SetVec(i, s.Labels[i]-ym)
		}
		var qr mat.QR
		qr.Factorize(Z)
		var r mat.Dense
		qr.RTo(&r)
		rc := mat.Cond(r.Slice(0, len(cols), 0, len(cols)), 2)
		if math.IsNaN(rc) {
			rc = math.Inf(1)
		}
		cond = max(cond, rc)
		var beta mat.VecDense
		if serr := beta.SolveVec(Z, yc); serr == nil || beta.Len() == len(cols) {
			for c, j := range cols {
				coef[j] = beta.AtVec(c) / std[j]
				intercept -= coef[j] * mean[j]
			}
		}
	} else if len(cols) > 0 {
		cond = math.Inf(1)
	}
	if !(cond <= MaxCondition) {
		err = fmt.Errorf("linear: closed-form least squares: %w", mat.Condition(cond))
	}
	return coef, intercept, cond, err
}

// constantColumn reports whether feature column j of s holds one value.
func constantColumn(s *nn.Set, j int) bool {
	v0 := s.Feature(0, j)
	for i := 1; i < s.Rows; i++ {
		if s.Feature(i, j) != v0 {
			return false
		}
	}
	return true
}

func linearMSE(s *nn.Set, coef []float64, intercept float64) float64 {
	var sum float64
	for i := range s.Rows {
		p := intercept
		for j, c := range coef {
			p += c * s.Feature(i, j)
		}
		d := p - s.Labels[i]
		sum += d * d
	}
	return sum / float64(s.Rows)
}

// free releases the solver's tensors.
func (ls *linearSolver) free() { ls.alloc.free() }

// allocator allocates tensors and remembers them, so that they can be freed
// at once. After the first failure it returns nil and keeps the error.
type allocator struct {
	b   backend.Backend
	ts  []backend.Tensor
	err error
}

func (a *allocator) new(rows, cols int, dt backend.DType) backend.Tensor {
	if a.err != nil {
		return nil
	}
	t, err := a.b.New(rows, cols, dt)
	if err != nil {
		a.err = fmt.Errorf("allocating a %dx%d %v tensor: %w", rows, cols, dt, err)
		return nil
	}
	a.ts = append(a.ts, t)
	return t
}

func (a *allocator) free() {
	for _, t := range a.ts {
		a.b.Free(t)
	}
	a.ts = nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
