package nn

import (
	"errors"
	"fmt"
	"math"
)

// ErrDiverged is wrapped by the error Train and SolveLinear return when the
// loss or the weights become NaN or infinite, or the loss rises past
// DivergenceFactor times the run's reference loss. Check with errors.Is.
var ErrDiverged = errors.New("training diverged")

// DivergedError says where training diverged. It wraps ErrDiverged.
type DivergedError struct {
	// Epoch is the epoch in which the non-finite value was seen; 0 where
	// there are no epochs (SolveLinear, whose steps are iterations).
	Epoch int
	// FromStep and ToStep bound the global steps that produced it (equal
	// when it is known to the step).
	FromStep, ToStep int
	// What says what went wrong, e.g. "mean loss is NaN" or "mean loss
	// 1.2e+13 is more than 100 times 2.3, the loss where this run started".
	What string
	// Loss is the mean loss of the reading that showed it (NaN, infinite
	// or past the limit); 0 when non-finite weights showed it.
	Loss float64
	// LR is the learning rate in use.
	LR float64
	// RateName is what Error calls the learning rate; "" means "learning
	// rate" (a command line sets its flag's name, e.g. "--lr").
	RateName string
}

// Error says where training diverged and suggests a smaller learning rate.
// Steps are iterations where there are no epochs (SolveLinear).
func (e *DivergedError) Error() string {
	unit := "step"
	if e.Epoch == 0 {
		unit = "iteration"
	}
	where := fmt.Sprintf("at %s %d", unit, e.ToStep)
	if e.FromStep != e.ToStep {
		where = fmt.Sprintf("between %ss %d and %d", unit, e.FromStep, e.ToStep)
	}
	if e.Epoch > 0 {
		where = fmt.Sprintf("in epoch %d %s", e.Epoch, where)
	}
	rate := e.RateName
	if rate == "" {
		rate = "learning rate"
	}
	return fmt.Sprintf("nn: %v %s: %s; try a smaller %s than %g", ErrDiverged, where, e.What, rate, e.LR)
}

// Unwrap returns ErrDiverged.
func (e *DivergedError) Unwrap() error { return ErrDiverged }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// DivergenceFactor is how far a loss may rise before Train and SolveLinear
// call the run diverged: a loss they read that is more than DivergenceFactor
// times the run's reference loss stops it with a *DivergedError, as a NaN
// or infinite one does.
//
// Train's reference is the larger of two losses: that of the call's first
// step (the mean over its minibatch, at the weights the call started from,
// measured before the step's update) and that of the trivial prediction —
// a uniform guess for a classifier (ln 2 for a BinaryHead, ln C for a
// SoftmaxHead of C classes) or all zeros in the model's units for a
// RegressionHead (the mean square of the scaled targets, 1 for
// standardised ones). SolveLinear's is the loss at x = 0, mean(y²), the
// loss its iteration 0 reports.
//
// Why it cannot stop a healthy run: gradient descent lowers the loss from
// where it starts; a run whose mean loss over a reading is a hundred times
// both its starting loss and the loss of knowing nothing (for a classifier:
// a mean log-probability of the right class 100·ln C below a guess's; for
// a regression: predictions ten times further off, root mean square, than
// predicting zero) has no usable model at that reading, whatever it does
// later. The floor of the trivial loss keeps a run that starts near a loss
// of 0 (a resumed, well-trained model) from being stopped by ordinary
// minibatch noise; the starting loss keeps a run that starts far from the
// trivial loss (unscaled targets, a poor model resumed) judged against
// where it actually started. A reference computed per call means a resumed
// run is judged against where it resumed, which is what it can be blamed
// for; a model that was already broken when saved is not this call's
// divergence (and a checkpoint never holds NaN or infinite weights: Save
// refuses them). For SolveLinear, a convex quadratic, gradient descent with
// a stable step never raises the loss above mean(y²) at all, and an
// unstable one raises it geometrically.
const DivergenceFactor = 100

// divergence judges the loss readings of one Train or SolveLinear call.
type divergence struct {
	null    float64 // the loss of the trivial prediction
	nullWhy string  // what null is
	ref     float64 // max(first step's loss, null); NaN until known
	why     string  // what ref is
	lr      float64
	// loss names the reading in messages ("mean loss" for Train, "loss"
	// for SolveLinear), and whyFmt sets why beside ref in them.
	loss, whyFmt string
}

// newDivergence prepares the rule for a Train call of m on s (the
// training rows) at learning rate lr.
func newDivergence(m *Model, s *Set, lr float64) *divergence {
	d := &divergence{null: trivialLoss(m, s), ref: math.NaN(), lr: lr, loss: "mean loss", whyFmt: " (%s)"}
	switch m.Spec.Head {
	case BinaryHead:
		d.nullWhy = "ln 2, the loss of a uniform guess"
	case SoftmaxHead:
		d.nullWhy = fmt.Sprintf("ln %d, the loss of a uniform guess", m.Spec.Outputs)
	default:
		d.nullWhy = "the loss of predicting 0, the targets' mean square"
	}
	return d
}

// newLinearDivergence prepares the rule for a SolveLinear call at learning
// rate lr whose loss at x = 0 is start, the reference from the outset.
func newLinearDivergence(start, lr float64) *divergence {
	return &divergence{null: start, nullWhy: "the loss at x = 0", ref: start, why: "the loss at x = 0",
		lr: lr, loss: "loss", whyFmt: ", %s"}
}

// LossCheck judges readings of a run's loss by Train's divergence rule
// against a reference known from the outset: a reading diverges when it is
// not finite or above DivergenceFactor times the reference. Package linear
// judges SolveLinear with it.
type LossCheck struct{ d *divergence }

// NewLossCheck returns the check of a run whose loss at its start (x = 0)
// is start, at learning rate lr.
func NewLossCheck(start, lr float64) LossCheck { return LossCheck{newLinearDivergence(start, lr)} }

// Ref is the reference loss.
func (c LossCheck) Ref() float64 { return c.d.ref }

// Check returns a *DivergedError for a bad reading mean of the loss over
// iterations from..to, else nil.
func (c LossCheck) Check(mean float64, from, to int) error { return c.d.check(mean, 0, from, to) }

// Diverged returns the *DivergedError of iterations from..to, what saying
// what went wrong.
func (c LossCheck) Diverged(from, to int, what string) *DivergedError {
	return c.d.diverged(0, from, to, what, 0)
}

// trivialLoss is the mean loss of the trivial prediction on s: a uniform
// guess for a classifier, zeros (in the model's units) for a regression.
func trivialLoss(m *Model, s *Set) float64 {
	switch m.Spec.Head {
	case BinaryHead:
		return math.Ln2
	case SoftmaxHead:
		return math.Log(float64(m.Spec.Outputs))
	}
	lc := labelCols(m.Spec)
	sc := m.Scaling
	var sum float64
	for i, v := range s.Labels[:s.Rows*lc] {
		if sc.HasTargets() {
			j := i % lc
			v = (v - sc.TargetMean[j]) / sc.TargetStd[j]
		}
		sum += v * v
	}
	return sum / float64(s.Rows*lc)
}

// start sets the reference from the mean loss of the call's first step.
func (d *divergence) start(first float64) {
	if !(first > d.null) { // NaN too: the first reading then diverges on its own
		d.ref, d.why = d.null, d.nullWhy
		return
	}
	d.ref, d.why = first, "the loss at this run's first step"
}

// judge returns what is wrong with a reading's mean loss, or "" if nothing.
func (d *divergence) judge(mean float64) string {
	if !finite(mean) {
		return fmt.Sprintf("%s is %v", d.loss, mean)
	}
	if mean > DivergenceFactor*d.ref {
		return fmt.Sprintf("%s %.6g is more than %d times %.6g"+d.whyFmt, d.loss, mean, DivergenceFactor, d.ref, d.why)
	}
	return ""
}

// reading is a look at the loss sums: their mean over the global steps
// from..to of epoch, and sum, the epoch's loss sum so far, whose first
// global step is epochFirst.
type reading struct {
	epoch, epochFirst, from, to int
	sum, mean                   float64
}

// checkReading returns a *DivergedError for a bad reading, else nil. When
// the epoch's sum is not finite the culprit is in this epoch (the sums
// restart every epoch, and every earlier epoch ended finite), so the
// error's steps start no earlier than the epoch's.
func (d *divergence) checkReading(r reading) error {
	from := r.from
	if !finite(r.sum) {
		from = max(from, r.epochFirst)
	}
	return d.check(r.mean, r.epoch, from, r.to)
}

// check returns a *DivergedError for a bad reading of the mean loss over
// the global steps from..to of epoch, else nil.
func (d *divergence) check(mean float64, epoch, from, to int) error {
	if what := d.judge(mean); what != "" {
		return d.diverged(epoch, from, to, what, mean)
	}
	return nil
}

// checkWeights reads m's parameters back and returns a *DivergedError at
// m's last step, in epoch, if one is not finite (or the error reading
// them).
func (d *divergence) checkWeights(m *Model, epoch int) error {
	if err := m.checkFinite(); err != nil {
		if errors.Is(err, errNonFinite) {
			return d.diverged(epoch, m.Info.Step, m.Info.Step, err.Error(), 0)
		}
		return err
	}
	return nil
}

// diverged is the one place a Train or SolveLinear call's *DivergedError
// is made: what went wrong over the global steps from..to of epoch (0 for
// SolveLinear's iterations), at a mean loss of loss (0 when no loss showed
// it).
func (d *divergence) diverged(epoch, from, to int, what string, loss float64) *DivergedError {
	return &DivergedError{Epoch: epoch, FromStep: from, ToStep: to, What: what, Loss: loss, LR: d.lr}
}
