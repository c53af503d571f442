package nn

import (
	"context"
	"errors"
	"fmt"
	"math"
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
	// WeightDecay (0 or more; 0 is none) decays the weights, not the
	// biases: for SGD, Momentum and Adam an L2 penalty wd·w folded into
	// the gradient (PyTorch's weight_decay of those optimizers), for
	// AdamW the decoupled decay w -= lr·wd·w (PyTorch's AdamW, whose
	// default is 0.01). It is applied in the optimizer's own update, at no
	// extra cost per step.
	WeightDecay float64
	// ClassWeights, if not nil, weighs each training row's loss and
	// gradient by its class's weight, one per class of the model
	// (Spec.Classes: 2 for a BinaryHead), as Keras's class_weight (the
	// batch mean of the weighted losses); BalancedClassWeights gives
	// scikit-learn's "balanced" weights. Validation and Evaluate stay
	// unweighted. It needs a classifier.
	ClassWeights []float64
	// ClipNorm, if positive, clips each step's gradient to that global
	// 2-norm over all of a model's parameters, as PyTorch's
	// clip_grad_norm_(max_norm) before the update: g·min(1,
	// ClipNorm/(‖g‖ + 1e-6)), the weight decay added after. The norm is
	// reduced on the device into the optimizer's table and read by the
	// update: one more dispatch per step, no readback. A model array
	// clips every member at this threshold, each by its own norm.
	ClipNorm float64
	// Dropout (0 ≤ Dropout < 1; 0 is none) drops each output of every
	// hidden layer with this probability during training and scales the
	// kept ones by 1/(1−Dropout) (inverted dropout), so evaluation and
	// prediction, which never drop, need no rescaling. The mask is drawn
	// from a counter-based generator (Philox4x32-10) keyed by Seed, the
	// step, the layer and the element, identically on every backend: the
	// GPU and the CPU reference drop the same elements, and a run resumed
	// from a checkpoint draws the masks the uninterrupted one would have.
	// It is applied in the layers' own products, at no extra dispatch.
	Dropout float64
	// Schedule varies the learning rate from epoch to epoch (warm-up,
	// cosine, step or plateau); the zero Schedule keeps LR throughout.
	Schedule Schedule
	// Seed seeds the shuffling: epoch e is shuffled by a PCG source seeded
	// with (Seed, e), so the same seed gives the same run, and a run resumed
	// from a checkpoint shuffles as the uninterrupted one would have. It
	// also keys Dropout's masks.
	Seed uint64
	// LogEvery, if positive, reads the loss (and, for classifiers, the
	// correct count) back every LogEvery steps, one device flush each, and
	// reports it through Hooks.Log; epochs are reported either way.
	LogEvery int
	// Standardize, when the model has no Scaling yet, fits it to the
	// training set first (see FitScaling): float features, and regression
	// targets, are standardised, except the one-hot inputs of a model with
	// a table encoding (Model.Table), which stay 0 or 1.
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
	cfg, err := cfg.stepDefaults()
	if err != nil {
		return cfg, err
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
	return cfg, nil
}

// stepDefaults validates the fields of cfg that a training step uses
// (Batch and the update rule) and fills the zero constants.
func (cfg Config) stepDefaults() (Config, error) {
	if cfg.Batch < 0 {
		return cfg, fmt.Errorf("nn: batch size %d, want 0 (full batch) or more", cfg.Batch)
	}
	if !(cfg.LR > 0) || math.IsInf(cfg.LR, 0) {
		return cfg, fmt.Errorf("nn: learning rate %v, want a positive finite number", cfg.LR)
	}
	if int(cfg.Optimizer) >= len(optimizerNames) {
		return cfg, fmt.Errorf("nn: unknown optimizer %v", cfg.Optimizer)
	}
	var err error
	if cfg.Schedule, err = cfg.Schedule.withDefaults(); err != nil {
		return cfg, err
	}
	if !(cfg.ClipNorm >= 0) || math.IsInf(cfg.ClipNorm, 0) {
		return cfg, fmt.Errorf("nn: gradient clipping norm %v, want 0 (none) or a positive finite number", cfg.ClipNorm)
	}
	if !(cfg.Dropout >= 0 && cfg.Dropout < 1) {
		return cfg, fmt.Errorf("nn: dropout %v (Config.Dropout), want 0 (none) or a probability below 1", cfg.Dropout)
	}
	if !(cfg.WeightDecay >= 0) || math.IsInf(cfg.WeightDecay, 0) {
		return cfg, fmt.Errorf("nn: weight decay %v, want 0 (none) or a positive finite number", cfg.WeightDecay)
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
	// LR is the learning rate the epoch's steps ran at (Config.Schedule).
	LR float64
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

// Train trains m on train with b, which must be m's backend (it panics
// otherwise, and if m was freed). The set is uploaded once; every epoch is
// shuffled on the host into an index tensor, each minibatch is gathered on the
// device, and the loss and correct count accumulate on the device until read:
// once per epoch, and every cfg.LogEvery steps if set. The steps are a
// Trainer's (see NewTrainer), the step the benchmarks time too.
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
// ShuffleSeed, Data, Validation and Schedule describe this call. The
// optimizer's state (momentum velocity, Adam's moments) is kept with the
// model at the end (Save writes it, with the schedule's position) and
// continued by the next call with the same Optimizer, as the schedule is by
// one with the same Schedule and LR (see ScheduleInfo): a run cut after E1
// of E epochs and continued for E−E1 more, in memory or from its checkpoint,
// trains as the uninterrupted run does. A call with another optimizer starts
// its state from zero.
func Train(ctx context.Context, b backend.Backend, m *Model, train *Set, cfg Config, hooks Hooks) (History, error) {
	m.live()
	if b != m.b {
		panic("nn: Train: backend is not the model's backend")
	}
	var hist History
	cfg, train, val, err := m.trainingSets(train, cfg)
	if err != nil {
		return hist, err
	}
	state, err := m.stateTensors(cfg.Optimizer)
	if err != nil {
		return hist, err
	}
	tr, err := newTrainer(m, train, &cfg, 0, true, state)
	if err != nil {
		return hist, err
	}
	defer tr.Free()
	m.trainOpt = tr.opt
	defer func() { m.trainOpt = nil }()
	hist.TrainRows = train.Rows
	va := newAllocator(b)
	defer va.free()
	es, err := newEarlyStopping(va, m, val, &cfg, tr.Batch(), &hist)
	if err != nil {
		return hist, err
	}
	defer es.release()
	l := newLoop(ctx, tr, train, &cfg, hooks, es, &hist)
	// Full batch: the order never changes, so it is written once.
	if tr.StepsPerOrder() == 1 {
		if err := tr.SetOrder(l.perm); err != nil {
			return hist, fmt.Errorf("nn: writing the row order: %w", err)
		}
		l.perm = nil
	}
	m.Info.Optimizer = cfg.Optimizer.String()
	m.Info.LR = cfg.LR
	m.Info.WeightDecay = cfg.WeightDecay
	m.Info.Dropout = cfg.Dropout
	m.Info.ShuffleSeed = cfg.Seed
	m.Info.Data = train.Name
	err = l.run()
	m.keepOptState(&cfg, err)
	return hist, err
}

// keepOptState decides, at the end of a Train call that ended with err,
// whether m keeps its optimizer's state for Save and the next call: not
// after a divergence, nor when early stopping left the model holding an
// earlier epoch's weights than the state's.
func (m *Model) keepOptState(cfg *Config, err error) {
	v := m.Info.Validation
	m.Info.OptimizerState = cfg.Optimizer.String()
	if errors.Is(err, ErrDiverged) || cfg.Patience > 0 && v != nil && v.BestEpoch != m.Info.Epoch {
		m.dropOptState()
		m.Info.OptimizerState = ""
	}
}

// trainingSets validates cfg and train, splits off the validation set cfg
// asks for, and fits the model's scaling first if cfg.Standardize asks for
// it: what Train does before it allocates anything.
func (m *Model) trainingSets(train *Set, cfg Config) (Config, *Set, *Set, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return cfg, nil, nil, err
	}
	if err := checkSet(train, m.Spec, true); err != nil {
		return cfg, nil, nil, err
	}
	train, val, err := cfg.validationSets(train)
	if err != nil {
		return cfg, nil, nil, err
	}
	if val != nil {
		if err := checkSet(val, m.Spec, true); err != nil {
			return cfg, nil, nil, fmt.Errorf("nn: validation set: %w", err)
		}
	}
	if cfg.Standardize && !m.Scaling.HasFeatures() && !m.Scaling.HasTargets() {
		sc, err := m.fitScaling(train)
		if err != nil {
			return cfg, nil, nil, err
		}
		m.Scaling = sc
	}
	if err := m.Scaling.validate(m.Spec); err != nil {
		return cfg, nil, nil, err
	}
	return cfg, train, val, nil
}

// errNonFinite marks checkFinite's finding of a NaN or infinite parameter.
var errNonFinite = errors.New("non-finite parameter")
