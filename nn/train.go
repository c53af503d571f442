package nn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gputrain/gputrain/backend"
)

// Config configures Train.
type Config struct {
	// Epochs is the number of passes over the training set (at least 1).
	Epochs int
	// Batch is the minibatch size; 0 (or anything at least the number of
	// rows) trains on the full batch, the classic gradient descent.
	Batch int
	// LR is the learning rate (positive).
	LR float64
	// Optimizer is the update rule; SGD by default.
	Optimizer Optimizer
	// Momentum is Momentum's mu; 0 means 0.9.
	Momentum float64
	// Beta1, Beta2 and Eps are Adam's constants; 0 means 0.9, 0.999 and 1e-8.
	Beta1, Beta2, Eps float64
	// Seed seeds the shuffling: epoch e is shuffled by a PCG source seeded
	// with (Seed, e), so the same seed gives the same run, and a run resumed
	// from a checkpoint shuffles as the uninterrupted one would have.
	Seed uint64
	// LogEvery, if positive, reads the loss (and, for classifiers, the
	// correct count) back every LogEvery steps, one device flush each, and
	// reports it through Hooks.Log; epochs are reported either way.
	LogEvery int
	// Standardize, when the model has no Scaling yet, fits it to the
	// training set first (see FitScaling): float features, and regression
	// targets, are standardised.
	Standardize bool

	// Val is a validation set. When it is set, or ValFraction is, Train
	// evaluates the model on it at the end of every epoch, forward only, on
	// the device, and reads the validation loss and accuracy back with the
	// epoch's training figures (one readback an epoch, none per step):
	// EpochStats.ValLoss and ValAccuracy.
	Val *Set
	// ValFraction, when Val is nil and ValFraction is positive (below 1),
	// holds that fraction of the training set out as the validation set:
	// train.HoldOut(ValFraction, ValSeed), stratified by class for a
	// classifier (see data.Set.HoldOut). Train trains on the rest (and fits
	// Standardize's scaling to it).
	ValFraction float64
	// ValSeed seeds the choice of the ValFraction rows.
	ValSeed uint64
	// Patience, if positive, stops training once Patience epochs in a row
	// have not lowered the validation loss below the best so far (early
	// stopping), and leaves the model holding the best epoch's weights, also
	// when it runs all Epochs or is cancelled; during training Save writes
	// the best epoch's weights too. It needs a validation set.
	//
	// The state (split, best epoch and loss, epochs since the best) is kept
	// in Model.Info.Validation and in checkpoints: a Train call on a model
	// whose Info.Validation came from the same split (same ValFraction,
	// ValSeed and validation rows) continues it, counting from its best
	// epoch's weights, which such a model holds.
	Patience int
}

// withDefaults fills the zero constants and validates cfg.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Epochs < 1 {
		return cfg, fmt.Errorf("nn: %d epochs, want at least 1", cfg.Epochs)
	}
	if cfg.Batch < 0 {
		return cfg, fmt.Errorf("nn: batch size %d, want 0 (full batch) or more", cfg.Batch)
	}
	if !(cfg.LR > 0) || math.IsInf(cfg.LR, 0) {
		return cfg, fmt.Errorf("nn: learning rate %v, want a positive finite number", cfg.LR)
	}
	if int(cfg.Optimizer) >= len(optimizerNames) {
		return cfg, fmt.Errorf("nn: unknown optimizer %v", cfg.Optimizer)
	}
	if cfg.Val == nil && cfg.ValFraction != 0 && !(cfg.ValFraction > 0 && cfg.ValFraction < 1) {
		return cfg, fmt.Errorf("nn: validation fraction %v, want 0 (none) or a number between 0 and 1", cfg.ValFraction)
	}
	if cfg.Patience < 0 {
		return cfg, fmt.Errorf("nn: patience %d, want 0 (no early stopping) or more", cfg.Patience)
	}
	if cfg.Patience > 0 && cfg.Val == nil && cfg.ValFraction == 0 {
		return cfg, fmt.Errorf("nn: early stopping (patience %d) needs a validation set (Config.Val or ValFraction)", cfg.Patience)
	}
	if cfg.Momentum == 0 {
		cfg.Momentum = 0.9
	}
	if cfg.Beta1 == 0 {
		cfg.Beta1 = 0.9
	}
	if cfg.Beta2 == 0 {
		cfg.Beta2 = 0.999
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-8
	}
	return cfg, nil
}

// Progress reports one finished training step to Hooks.Step.
type Progress struct {
	// Epoch is the epoch number (counting from 1 over the model's life).
	Epoch int
	// Step is the step within the epoch, from 1 to Steps.
	Step, Steps int
	// Samples is the number of rows processed so far in this epoch.
	Samples int
}

// LogStats is a loss reading taken every Config.LogEvery steps.
type LogStats struct {
	// Epoch is the epoch number and Step the model's global step count.
	Epoch, Step int
	// Loss is the mean per-row loss over the rows since the previous reading.
	Loss float64
	// Accuracy is the fraction of those rows predicted right; NaN for a
	// RegressionHead.
	Accuracy float64
	// Samples is the number of rows since the previous reading.
	Samples int
}

// EpochStats summarises one epoch. Loss and Accuracy are means over the
// epoch's steps, measured before each step's update.
type EpochStats struct {
	// Epoch is the epoch number, counting from 1 over the model's life.
	Epoch int
	// Steps and Samples count the steps and rows of the epoch.
	Steps, Samples int
	// Loss is the mean per-row training loss.
	Loss float64
	// Accuracy is the fraction of rows predicted right; NaN for a
	// RegressionHead.
	Accuracy float64
	// SamplesPerSec is Samples over Duration.
	SamplesPerSec float64
	// Duration is the epoch's wall time and Elapsed the time since Train
	// began.
	Duration, Elapsed time.Duration
	// Partial is true for an epoch cut short by cancellation.
	Partial bool
	// ValLoss and ValAccuracy are the mean loss and the accuracy on the
	// validation set after the epoch's last step; NaN without validation
	// (and ValAccuracy NaN for a RegressionHead, both NaN for a Partial
	// epoch).
	ValLoss, ValAccuracy float64
	// Best is true when ValLoss is the lowest so far (for a resumed model:
	// over its whole training).
	Best bool
}

// History is what Train returns: one entry per epoch (the last one Partial
// if training was cancelled) and the LogEvery readings.
type History struct {
	// Epochs has one entry per epoch run, in order.
	Epochs []EpochStats
	// Logs has one entry per Config.LogEvery reading, in order.
	Logs []LogStats
	// TrainRows and ValRows count the rows trained on and validated on
	// (ValRows 0 without validation).
	TrainRows, ValRows int
	// BestEpoch is the epoch with the lowest validation loss (over the
	// model's life when it continued an earlier validation state); 0
	// without validation.
	BestEpoch int
	// StoppedEarly is true when early stopping ended training before
	// Config.Epochs epochs.
	StoppedEarly bool
}

// Last returns the last epoch's stats, or the zero value if there are none.
func (h History) Last() EpochStats {
	if len(h.Epochs) == 0 {
		return EpochStats{}
	}
	return h.Epochs[len(h.Epochs)-1]
}

// Hooks are optional callbacks of Train; a nil field costs nothing. They run
// on Train's goroutine and must not use the backend.
type Hooks struct {
	// Step is called after every step is recorded (the GPU may not have run
	// it yet), e.g. to advance a progress bar.
	Step func(Progress)
	// Log is called with every Config.LogEvery reading.
	Log func(LogStats)
	// Epoch is called at the end of every epoch.
	Epoch func(EpochStats)
}

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

// Train trains m on train with b, which must be m's backend (it panics
// otherwise, and if m was freed). The set is uploaded once; every epoch is
// shuffled on the host into an index tensor, each minibatch is gathered on the
// device, and the loss and correct count accumulate on the device until read:
// once per epoch, and every cfg.LogEvery steps if set.
//
// Train returns the history and nil after cfg.Epochs epochs. When ctx is
// cancelled it finishes the current step and returns the history so far
// (the cut epoch marked Partial) with an error wrapping ctx.Err(); the model
// is then consistent and may be saved. When a loss it reads is not finite,
// or more than DivergenceFactor times the run's reference loss (see
// DivergenceFactor), or the final weights are not finite, it returns an
// error wrapping ErrDiverged (a *DivergedError naming the steps since the
// previous reading) and the model should be discarded. The loss is judged
// at the readings Train takes anyway, none added: at the end of every
// epoch and every LogEvery steps, so a blow-up is caught at the first of
// them after it (within the epoch, or LogEvery steps); the first step's
// loss, the reference, comes back with the first reading. Invalid configurations, data that does not
// fit m.Spec and device failures are returned as errors too.
//
// With a validation set (cfg.Val or cfg.ValFraction), every complete epoch
// ends with an evaluation of the model on it, and with cfg.Patience early
// stopping keeps the best epoch's weights: see Config.
//
// m.Info is updated: Epoch and Step count on over calls, and Optimizer, LR,
// ShuffleSeed, Data and Validation describe this call. Optimizer state
// (momentum, Adam's moments) lives only for the call.
func Train(ctx context.Context, b backend.Backend, m *Model, train *Set, cfg Config, hooks Hooks) (History, error) {
	m.live()
	if b != m.b {
		panic("nn: Train: backend is not the model's backend")
	}
	var hist History
	cfg, err := cfg.withDefaults()
	if err != nil {
		return hist, err
	}
	if err := checkSet(train, m.Spec, true); err != nil {
		return hist, err
	}
	train, val, err := cfg.validationSets(train)
	if err != nil {
		return hist, err
	}
	if val != nil {
		if err := checkSet(val, m.Spec, true); err != nil {
			return hist, fmt.Errorf("nn: validation set: %w", err)
		}
	}
	if cfg.Standardize && !m.Scaling.HasFeatures() && !m.Scaling.HasTargets() {
		sc, err := FitScaling(train, m.Spec)
		if err != nil {
			return hist, err
		}
		m.Scaling = sc
	}
	if err := m.Scaling.validate(m.Spec); err != nil {
		return hist, err
	}

	n := train.Rows
	batch := cfg.Batch
	if batch == 0 || batch > n {
		batch = n
	}
	steps := (n + batch - 1) / batch
	classify := m.Spec.Head.Classifies()

	a := newAllocator(b)
	defer a.free()
	x, t, scale, err := m.upload(a, train)
	if err != nil {
		return hist, err
	}
	ws := m.newWorkspace(a, batch, true)
	g := m.newGrads(a)
	opt := newOptimizer(a, b, &cfg, m.params, g.all)
	idx := a.new(n, 1, backend.Index)
	lossT := a.new(1, 1, backend.Float)
	// The call's first step adds its loss here instead of to lossT, so that
	// the first reading also tells the loss where the run started (the
	// divergence rule's reference) without a reading of its own. New
	// tensors are zero.
	firstT := a.new(1, 1, backend.Float)
	var countT backend.Tensor
	if classify {
		countT = a.new(1, 1, backend.Float)
	}
	if a.err != nil {
		return hist, fmt.Errorf("nn: allocating training buffers for %v, batch %d: %w", m.Spec, batch, a.err)
	}
	wsLast := ws.view(b, n-(steps-1)*batch)
	opt.step = m.Info.Step // Adam's bias correction continues over calls
	hist.TrainRows = n

	// Validation: the state continues that of the model's last call when
	// the split is the same and the model holds the best weights (see
	// Config.Patience); else it starts afresh.
	var v *validator
	var vi *ValidationInfo
	if val != nil {
		if v, err = newValidator(a, m, val, max(batch, 1024), cfg.Patience > 0); err != nil {
			return hist, err
		}
		vi = &ValidationInfo{Fraction: cfg.ValFraction, Seed: cfg.ValSeed, Rows: val.Rows, Patience: cfg.Patience,
			BestLoss: math.Inf(1)}
		if cfg.Val != nil {
			vi.Fraction, vi.Seed = 0, 0
		}
		if old := m.Info.Validation; old.sameSplit(vi) && (cfg.Patience == 0 || old.HoldsBest()) {
			vi.BestEpoch, vi.BestLoss, vi.SinceBest = old.BestEpoch, old.BestLoss, old.SinceBest
		}
		v.keep()
		m.best = v.best
		defer func() { m.best = nil }()
		hist.ValRows = val.Rows
		hist.BestEpoch = vi.BestEpoch
	}
	// finish is every way out but divergence: the model gets the best
	// epoch's weights back when early stopping keeps them.
	finish := func() {
		if v != nil {
			v.restore()
			m.best = nil
			m.Info.Validation = vi
		}
	}
	if v == nil {
		m.Info.Validation = nil
	}

	perm := make([]uint32, n)
	for i := range perm {
		perm[i] = uint32(i)
	}
	shuffle := steps > 1
	if !shuffle {
		if err := b.WriteIndices(idx, perm); err != nil {
			return hist, fmt.Errorf("nn: writing the row order: %w", err)
		}
	}

	m.Info.Optimizer = cfg.Optimizer.String()
	m.Info.LR = cfg.LR
	m.Info.ShuffleSeed = cfg.Seed
	m.Info.Data = train.Name

	// The first step's loss (firstSum, read with the first reading) belongs
	// to the first epoch's sums.
	div := newDivergence(m, train, cfg.LR)
	firstSum, firstKnown := 0.0, false
	took := func(e int, loss float64, firstRead []float64) float64 {
		if !firstKnown {
			firstSum, firstKnown = firstRead[0], true
			div.start(firstSum / float64(batch))
		}
		if e == 0 {
			loss += firstSum
		}
		return loss
	}
	firstExtra := func() []backend.Tensor {
		if firstKnown {
			return nil
		}
		return []backend.Tensor{firstT}
	}
	read := func(e int) (loss, count float64, err error) {
		loss, count, ex, err := readSums(b, lossT, countT, classify, firstExtra()...)
		if err != nil {
			return 0, 0, fmt.Errorf("nn: reading the loss: %w", err)
		}
		return took(e, loss, ex), count, nil
	}
	acc := func(count float64, rows int) float64 {
		if !classify {
			return math.NaN()
		}
		return count / float64(rows)
	}

	start := time.Now()
	done := ctx.Done()
	// Rows, loss and count logged since the last LogEvery reading but
	// accumulated in earlier epochs (the accumulators restart every epoch).
	var carryLoss, carryCount float64
	carryRows, logStep := 0, m.Info.Step
	for e := 0; e < cfg.Epochs; e++ {
		epoch := m.Info.Epoch + 1
		epochStart := time.Now()
		if shuffle {
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(epoch)))
			for i := range perm {
				perm[i] = uint32(i)
			}
			rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			if err := b.WriteIndices(idx, perm); err != nil {
				return hist, fmt.Errorf("nn: writing the order of epoch %d: %w", epoch, err)
			}
		}
		b.Fill(lossT, 0)
		if classify {
			b.Fill(countT, 0)
		}
		firstStep := m.Info.Step + 1
		var logLoss, logCount float64 // accumulator values at the last reading
		logRows, logged := 0, false
		samples := 0
		cancelled := false
		for s := 0; s < steps; s++ {
			if done != nil {
				select {
				case <-done:
					cancelled = true
				default:
				}
				if cancelled {
					break
				}
			}
			w := ws
			if s == steps-1 {
				w = wsLast
			}
			lt := lossT
			if e == 0 && s == 0 {
				lt = firstT
			}
			m.trainStep(w, g, opt, x, t, idx, s*batch, scale, lt, countT)
			m.Info.Step++
			samples += w.rows
			if hooks.Step != nil {
				hooks.Step(Progress{Epoch: epoch, Step: s + 1, Steps: steps, Samples: samples})
			}
			if cfg.LogEvery > 0 && m.Info.Step%cfg.LogEvery == 0 {
				l, c, err := read(e)
				if err != nil {
					return hist, err
				}
				rows := samples - logRows + carryRows
				mean := (l - logLoss + carryLoss) / float64(rows)
				if !finite(l) {
					// The accumulator restarts every epoch, and every earlier
					// epoch ended finite, so the culprit is in this epoch.
					return hist, &DivergedError{Epoch: epoch, FromStep: max(logStep+1, firstStep), ToStep: m.Info.Step,
						What: fmt.Sprintf("mean loss is %v", mean), Loss: mean, LR: cfg.LR}
				}
				if err := div.check(mean, epoch, logStep+1, m.Info.Step); err != nil {
					return hist, err
				}
				ls := LogStats{Epoch: epoch, Step: m.Info.Step, Loss: mean, Accuracy: acc(c-logCount+carryCount, rows), Samples: rows}
				hist.Logs = append(hist.Logs, ls)
				if hooks.Log != nil {
					hooks.Log(ls)
				}
				logLoss, logCount, logRows, logStep, logged = l, c, samples, m.Info.Step, true
				carryLoss, carryCount, carryRows = 0, 0, 0
			}
		}
		if samples == 0 { // cancelled before the epoch's first step
			finish()
			return hist, m.stopped(ctx, epoch, cfg.LR)
		}
		var l, c, vl, vc float64
		validate := v != nil && !cancelled
		switch {
		case validate:
			v.record()
			var ex []float64
			if l, c, vl, vc, ex, err = v.readSums(lossT, countT, firstExtra()...); err != nil {
				return hist, err
			}
			l = took(e, l, ex)
		case logRows == samples:
			l, c = logLoss, logCount
		default:
			if l, c, err = read(e); err != nil {
				return hist, err
			}
		}
		from := firstStep
		if logged {
			from = logStep + 1
		}
		if !finite(l) {
			return hist, &DivergedError{Epoch: epoch, FromStep: from, ToStep: m.Info.Step,
				What: fmt.Sprintf("mean loss is %v", l/float64(samples)), Loss: l / float64(samples), LR: cfg.LR}
		}
		// The epoch's mean judged as a whole: a blow-up after the last
		// LogEvery reading raises it too.
		if err := div.check(l/float64(samples), epoch, from, m.Info.Step); err != nil {
			return hist, err
		}
		carryLoss += l - logLoss
		carryCount += c - logCount
		carryRows += samples - logRows
		now := time.Now()
		st := EpochStats{Epoch: epoch, Steps: m.Info.Step - firstStep + 1, Samples: samples,
			Loss: l / float64(samples), Accuracy: acc(c, samples),
			Duration: now.Sub(epochStart), Elapsed: now.Sub(start), Partial: cancelled,
			ValLoss: noValidation, ValAccuracy: noValidation}
		if secs := st.Duration.Seconds(); secs > 0 {
			st.SamplesPerSec = float64(samples) / secs
		}
		if validate {
			st.ValLoss, st.ValAccuracy = vl/float64(val.Rows), acc(vc, val.Rows)
			if !finite(vl) {
				return hist, &DivergedError{Epoch: epoch, FromStep: firstStep, ToStep: m.Info.Step,
					What: fmt.Sprintf("validation loss is %v", st.ValLoss), LR: cfg.LR}
			}
			if st.ValLoss < vi.BestLoss {
				vi.BestEpoch, vi.BestLoss, vi.SinceBest = epoch, st.ValLoss, 0
				st.Best = true
				v.keep()
			} else {
				vi.SinceBest++
			}
			hist.BestEpoch = vi.BestEpoch
			info := *vi
			m.Info.Validation = &info
		}
		hist.Epochs = append(hist.Epochs, st)
		if !cancelled {
			m.Info.Epoch = epoch
		}
		if hooks.Epoch != nil {
			hooks.Epoch(st)
		}
		if cancelled {
			finish()
			return hist, m.stopped(ctx, epoch, cfg.LR)
		}
		if cfg.Patience > 0 && vi.SinceBest >= cfg.Patience && e < cfg.Epochs-1 {
			vi.StoppedEarly, hist.StoppedEarly = true, true
			break
		}
	}
	finish()
	if err := m.checkFinite(); err != nil {
		if errors.Is(err, errNonFinite) {
			return hist, &DivergedError{Epoch: m.Info.Epoch, FromStep: m.Info.Step, ToStep: m.Info.Step,
				What: err.Error(), LR: cfg.LR}
		}
		return hist, err
	}
	return hist, nil
}

// stopped is Train's answer to a cancelled ctx: a divergence error if the
// weights went bad in the last step, else ctx.Err() with where it stopped.
func (m *Model) stopped(ctx context.Context, epoch int, lr float64) error {
	if err := m.checkFinite(); err != nil {
		if errors.Is(err, errNonFinite) {
			return &DivergedError{Epoch: epoch, FromStep: m.Info.Step, ToStep: m.Info.Step, What: err.Error(), LR: lr}
		}
		return err
	}
	return fmt.Errorf("nn: training stopped in epoch %d after step %d: %w", epoch, m.Info.Step, ctx.Err())
}

// errNonFinite marks checkFinite's finding of a NaN or infinite parameter.
var errNonFinite = errors.New("non-finite parameter")
