package nn

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/gputrain/gputrain/backend"
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
// A non-finite loss or solution, or a loss more than DivergenceFactor times
// the loss at x = 0 (judged at each logged iteration and at the end, on the
// x read back for them: the blow-up is caught within every iterations),
// returns a *DivergedError naming the iterations since the last reading.
// Cancelling ctx
// stops after the current iteration and returns the x so far with an error
// wrapping ctx.Err(). Malformed inputs and device failures are errors.
func SolveLinear(ctx context.Context, b backend.Backend, A [][]float64, y []float64, lr float64, iters int, every int, log func(iter int, loss float64)) (x []float64, err error) {
	n := len(A)
	if n == 0 || len(A[0]) == 0 {
		return nil, errors.New("nn: SolveLinear: A is empty")
	}
	k := len(A[0])
	flat := make([]float64, 0, n*k)
	for i, r := range A {
		if len(r) != k {
			return nil, fmt.Errorf("nn: SolveLinear: row %d of A has %d entries, row 0 has %d", i, len(r), k)
		}
		flat = append(flat, r...)
	}
	if len(y) != n {
		return nil, fmt.Errorf("nn: SolveLinear: y has %d entries for the %d rows of A", len(y), n)
	}
	if !(lr > 0) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("nn: SolveLinear: learning rate %v, want a positive finite number", lr)
	}
	if iters < 1 {
		return nil, fmt.Errorf("nn: SolveLinear: %d iterations, want at least 1", iters)
	}

	a := newAllocator(b)
	defer a.free()
	aT := a.new(n, k, backend.Float)
	xT := a.new(k, 1, backend.Float)
	yT := a.new(n, 1, backend.Float)
	out := a.new(n, 1, backend.Float)
	grad := a.new(n, 1, backend.Float)
	gx := a.new(k, 1, backend.Float)
	comp := a.new(k, 1, backend.Float) // Kahan compensation of x
	loss := a.new(1, 1, backend.Float)
	if a.err != nil {
		return nil, fmt.Errorf("nn: SolveLinear on a %dx%d system: %w", n, k, a.err)
	}
	if err := b.WriteFloats(aT, flat); err != nil {
		return nil, fmt.Errorf("nn: SolveLinear: writing A: %w", err)
	}
	if err := b.WriteFloats(yT, y); err != nil {
		return nil, fmt.Errorf("nn: SolveLinear: writing y: %w", err)
	}
	b.Fill(xT, 0)
	b.Fill(comp, 0)

	// readX returns the compensated solution x − c.
	readX := func() ([]float64, error) {
		x, err := b.ReadFloats(xT)
		if err != nil {
			return nil, fmt.Errorf("nn: SolveLinear: reading x: %w", err)
		}
		c, err := b.ReadFloats(comp)
		if err != nil {
			return nil, fmt.Errorf("nn: SolveLinear: reading x: %w", err)
		}
		for i := range x {
			x[i] -= c[i]
		}
		return x, nil
	}
	// lossOf is mean((A·x − y)²) in float64 on the host.
	lossOf := func(xs []float64) float64 {
		sum := 0.0
		for i, row := range A {
			r := -y[i]
			for j, v := range row {
				r += v * xs[j]
			}
			sum += r * r
		}
		return sum / float64(n)
	}
	// The loss at x = 0 is the divergence rule's reference (see
	// DivergenceFactor): a stable gradient descent never rises above it.
	start := 0.0
	for _, v := range y {
		start += v * v
	}
	start /= float64(n) // sum, then divide, as numpy's mean does
	diverged := func(loss float64, from, to int) error {
		what := ""
		switch {
		case !finite(loss):
			what = fmt.Sprintf("loss is %v", loss)
		case loss > DivergenceFactor*start:
			what = fmt.Sprintf("loss %.6g is more than %d times %.6g, the loss at x = 0", loss, DivergenceFactor, start)
		default:
			return nil
		}
		return &DivergedError{FromStep: from, ToStep: to, What: what, Loss: loss, LR: lr}
	}
	if every > 0 && log != nil {
		log(0, start)
	}
	lastRead := 0
	done := ctx.Done()
	for it := 1; it <= iters; it++ {
		if done != nil {
			select {
			case <-done:
				x, err := readX()
				if err != nil {
					return nil, err
				}
				return x, fmt.Errorf("nn: SolveLinear stopped after iteration %d: %w", it-1, ctx.Err())
			default:
			}
		}
		logNow := every > 0 && (it%every == 0 || it == iters)
		b.MatMul(out, aT, xT, false, false)
		b.LossGrad(loss, grad, out, yT, backend.MeanSquaredError)
		b.MatMul(gx, aT, grad, true, false)
		b.SGDCompensated(xT, gx, comp, lr)
		if logNow {
			xs, err := readX()
			if err != nil {
				return nil, fmt.Errorf("nn: SolveLinear: at iteration %d: %w", it, err)
			}
			mean := lossOf(xs)
			if err := diverged(mean, lastRead+1, it); err != nil {
				return nil, err
			}
			lastRead = it
			if log != nil {
				log(it, mean)
			}
		}
	}
	x, err = readX()
	if err != nil {
		return nil, err
	}
	for i, v := range x {
		if !finite(v) {
			return nil, &DivergedError{FromStep: lastRead + 1, ToStep: iters, What: fmt.Sprintf("x[%d] is %v", i, v), LR: lr}
		}
	}
	if lastRead < iters { // not judged yet: every is 0
		if err := diverged(lossOf(x), lastRead+1, iters); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// RegressConfig configures Regress.
type RegressConfig struct {
	// Epochs, Batch, LR, Optimizer and Seed are as in Config; features and
	// targets are always standardised.
	Epochs, Batch int
	LR            float64
	Optimizer     Optimizer
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
	// computed in float64 with gonum (QR). ExactErr is non-nil when the
	// design matrix is rank deficient or ill-conditioned (then the exact
	// values are gonum's best effort).
	ExactCoef      []float64
	ExactIntercept float64
	ExactMSE       float64
	ExactErr       error
	// Restart is the index of the kept start, and History its training.
	Restart int
	History History
	// Model is the kept model (a RegressionHead with no hidden layers and
	// the standardisation in its Scaling), for Predict and Save. The caller
	// frees it.
	Model *Model
}

// Regress fits a linear regression to the float features and the single
// target of s on backend b: a RegressionHead model with no hidden layers on
// standardised features and target, trained cfg.Restarts times from
// different random starts, keeping the best. Coefficients come back in
// original units beside the closed-form least-squares solution. Cancelling
// ctx, divergence, bad data and device failures are returned as errors (the
// best model so far, if any, still comes back with a cancellation).
func Regress(ctx context.Context, b backend.Backend, s *Set, cfg RegressConfig, hooks Hooks) (*Regression, error) {
	if s == nil || s.Pixels != nil {
		return nil, errors.New("nn: Regress needs a set of float features")
	}
	spec := Spec{Inputs: s.Cols, Outputs: 1, Head: RegressionHead, Activation: backend.Identity}
	if err := checkSet(s, spec, true); err != nil {
		return nil, err
	}
	sc, err := FitScaling(s, spec)
	if err != nil {
		return nil, err
	}
	restarts := max(cfg.Restarts, 1)
	tc := Config{Epochs: cfg.Epochs, Batch: cfg.Batch, LR: cfg.LR, Optimizer: cfg.Optimizer, Seed: cfg.Seed}
	var best *Regression
	for r := range restarts {
		m, err := NewModel(b, spec, cfg.Seed+uint64(r))
		if err != nil {
			return best, err
		}
		m.Scaling = sc
		h, err := Train(ctx, b, m, s, tc, hooks)
		if err != nil {
			m.Free()
			if best != nil && ctx.Err() != nil {
				return best, err
			}
			best.free()
			return nil, fmt.Errorf("nn: Regress start %d: %w", r, err)
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
	best.ExactCoef, best.ExactIntercept, best.ExactErr = LeastSquares(s)
	best.ExactMSE = linearMSE(s, best.ExactCoef, best.ExactIntercept)
	return best, nil
}

func (r *Regression) free() {
	if r != nil && r.Model != nil {
		r.Model.Free()
	}
}

// LeastSquares returns the least-squares fit y ≈ coef·x + intercept of the
// features and single target of s, in float64 with gonum's QR. The error is
// non-nil (a mat.Condition) when the design is rank deficient or
// ill-conditioned; the values are then gonum's best effort.
func LeastSquares(s *Set) (coef []float64, intercept float64, err error) {
	k := s.Cols
	X := mat.NewDense(s.Rows, k+1, nil)
	for i := range s.Rows {
		X.Set(i, 0, 1)
		for j := range k {
			X.Set(i, j+1, s.Feature(i, j))
		}
	}
	var beta mat.VecDense
	err = beta.SolveVec(X, mat.NewVecDense(s.Rows, append([]float64(nil), s.Labels[:s.Rows]...)))
	if err != nil {
		err = fmt.Errorf("nn: closed-form least squares: %w", err)
		if beta.Len() == 0 {
			return make([]float64, k), 0, err
		}
	}
	coef = make([]float64, k)
	for j := range coef {
		coef[j] = beta.AtVec(j + 1)
	}
	return coef, beta.AtVec(0), err
}

func linearMSE(s *Set, coef []float64, intercept float64) float64 {
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
