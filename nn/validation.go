package nn

import (
	"fmt"
	"math"

	"github.com/gputrain/gputrain/backend"
)

// ValidationInfo is the validation state of a model: how its validation
// set was chosen and where early stopping stands. Train keeps it in
// Model.Info.Validation, and checkpoints store it (in MetaTraining), so that
// a resumed run can hold out the same rows and continue counting.
type ValidationInfo struct {
	// Fraction and Seed are the Config.ValFraction and Config.ValSeed that
	// chose the validation set (train.HoldOut(Fraction, Seed)); Fraction is
	// 0 for a set given as Config.Val.
	Fraction float64 `json:"fraction"`
	Seed     uint64  `json:"seed"`
	// Rows is the number of validation rows.
	Rows int `json:"rows"`
	// Patience is Config.Patience (0: no early stopping).
	Patience int `json:"patience"`
	// BestEpoch is the epoch with the lowest validation loss so far (0
	// before the first) and BestLoss that loss.
	BestEpoch int     `json:"best_epoch"`
	BestLoss  float64 `json:"best_loss"`
	// SinceBest counts the epochs trained after BestEpoch.
	SinceBest int `json:"epochs_since_best"`
	// StoppedEarly is true when the last Train call stopped because
	// SinceBest reached Patience.
	StoppedEarly bool `json:"stopped_early"`
}

// HoldsBest reports whether a model whose Info.Validation is v holds the
// weights of its best epoch: Train leaves them there when early stopping is
// on (Patience > 0), and the latest epoch's weights are the best ones when
// no epoch followed it.
func (v *ValidationInfo) HoldsBest() bool {
	return v != nil && v.BestEpoch > 0 && (v.Patience > 0 || v.SinceBest == 0)
}

// sameSplit reports whether v was made by the same split as w.
func (v *ValidationInfo) sameSplit(w *ValidationInfo) bool {
	return v != nil && w != nil && v.Fraction == w.Fraction && v.Seed == w.Seed && v.Rows == w.Rows
}

// validationSets returns the training and validation sets cfg asks for: train
// and cfg.Val, or train split by HoldOut(cfg.ValFraction, cfg.ValSeed), or
// train and nil without validation.
func (cfg Config) validationSets(train *Set) (*Set, *Set, error) {
	switch {
	case cfg.Val != nil:
		return train, cfg.Val, nil
	case cfg.ValFraction == 0:
		return train, nil, nil
	}
	kept, held, err := train.HoldOut(cfg.ValFraction, cfg.ValSeed)
	if err != nil {
		return nil, nil, fmt.Errorf("nn: holding out the validation set: %w", err)
	}
	held.Name = train.Name + " (validation)"
	return kept, held, nil
}

// validator evaluates a model on a validation set at the end of every
// epoch, on the device: the set is uploaded once, each evaluation records a
// forward pass per chunk whose loss and correct count accumulate in two 1×1
// tensors, read back together with the epoch's training sums (one
// readback an epoch). With early stopping it keeps a copy of the best
// epoch's parameters on the device (copied by Gather through an identity
// index, so nothing is read back) and can put it back.
type validator struct {
	*evaluator
	params []backend.Tensor
	best   []backend.Tensor // nil without early stopping
}

// newValidator uploads val and allocates the evaluation buffers (chunks of
// at most chunk rows) and, if keepBest, a copy of m's parameters.
func newValidator(a *allocator, m *Model, val *Set, chunk int, keepBest bool) (*validator, error) {
	v := &validator{}
	widest := 0
	for _, l := range m.layers {
		v.params = append(v.params, l.w, l.bias)
		widest = max(widest, l.in)
	}
	if keepBest {
		for _, p := range v.params {
			v.best = append(v.best, a.newArray(m.models(), p.Rows(), p.Cols(), p.DType()))
		}
	}
	var err error
	if v.evaluator, err = newEvaluator(a, m, val, max(chunk, 1), widest, "validation"); err != nil {
		return nil, err
	}
	return v, nil
}

// copyParams records dst[i] = src[i] for parameter tensors of equal shapes.
func (v *validator) copyParams(dst, src []backend.Tensor) {
	for i, s := range src {
		v.m.b.Gather(dst[i], s, v.order, 0, 1)
	}
}

// keep records a copy of the current parameters as the best ones.
func (v *validator) keep() {
	if v.best != nil {
		v.copyParams(v.best, v.params)
	}
}

// restore records putting the best parameters back into the model.
func (v *validator) restore() {
	if v.best != nil {
		v.copyParams(v.params, v.best)
	}
}

// readSums reads the training loss and count sums (lossT, countT), the
// validation sums and the 1×1 extra tensors, in one readback.
func (v *validator) readSums(lossT, countT backend.Tensor, extra ...backend.Tensor) (loss, count, vloss, vcount float64, ex []float64, err error) {
	ts := []backend.Tensor{lossT, v.loss}
	if v.count != nil {
		ts = append(ts, countT, v.count)
	}
	ts = append(ts, extra...)
	r, err := backend.ReadAll(v.m.b, ts...)
	if err != nil {
		return 0, 0, 0, 0, nil, fmt.Errorf("nn: reading the training and validation loss: %w", err)
	}
	loss, vloss = r[0][0], r[1][0]
	if v.count != nil {
		count, vcount = r[2][0], r[3][0]
	}
	for _, e := range r[len(r)-len(extra):] {
		ex = append(ex, e[0])
	}
	return loss, count, vloss, vcount, ex, nil
}

// noValidation is the ValLoss and ValAccuracy of an epoch without
// validation.
var noValidation = math.NaN()

// earlyStopping is Train's validation hook: the validator, the state it
// keeps in Model.Info.Validation (the best epoch, the epochs since), early
// stopping's decision, and the best epoch's weights it keeps on the device,
// which Save writes while training runs (Model.best) and which the model
// gets back when training ends. A nil *earlyStopping (no validation set)
// does nothing.
type earlyStopping struct {
	m        *Model
	v        *validator
	vi       *ValidationInfo
	hist     *History
	patience int
}

// newEarlyStopping prepares validation on val for a Train call with cfg
// and minibatches of batch rows; it returns nil, and clears
// m.Info.Validation, when val is nil. The state continues that of the
// model's last call when the split is the same and the model holds the
// best weights (see Config.Patience); else it starts afresh.
func newEarlyStopping(a *allocator, m *Model, val *Set, cfg *Config, batch int, hist *History) (*earlyStopping, error) {
	if val == nil {
		m.Info.Validation = nil
		return nil, nil
	}
	v, err := newValidator(a, m, val, max(batch, 1024), cfg.Patience > 0)
	if err != nil {
		return nil, err
	}
	vi := &ValidationInfo{Fraction: cfg.ValFraction, Seed: cfg.ValSeed, Rows: val.Rows, Patience: cfg.Patience,
		BestLoss: math.Inf(1)}
	if cfg.Val != nil {
		vi.Fraction, vi.Seed = 0, 0
	}
	if old := m.Info.Validation; old.sameSplit(vi) && (cfg.Patience == 0 || old.HoldsBest()) {
		vi.BestEpoch, vi.BestLoss, vi.SinceBest = old.BestEpoch, old.BestLoss, old.SinceBest
	}
	v.keep()
	m.best = v.best
	hist.ValRows = val.Rows
	hist.BestEpoch = vi.BestEpoch
	return &earlyStopping{m: m, v: v, vi: vi, hist: hist, patience: cfg.Patience}, nil
}

// judge fills in st's validation figures from the validation sums, and
// updates the best epoch (keeping its weights): a *DivergedError, over the
// epoch's global steps epochFirst..step, when the loss is not finite.
func (es *earlyStopping) judge(st *EpochStats, vloss, vcount float64, div *divergence, epochFirst, step int) error {
	rows := es.v.rows
	st.ValLoss, st.ValAccuracy = vloss/float64(rows), math.NaN()
	if es.v.count != nil {
		st.ValAccuracy = vcount / float64(rows)
	}
	if !finite(vloss) {
		return div.diverged(st.Epoch, epochFirst, step, fmt.Sprintf("validation loss is %v", st.ValLoss), 0)
	}
	vi := es.vi
	if st.ValLoss < vi.BestLoss {
		vi.BestEpoch, vi.BestLoss, vi.SinceBest = st.Epoch, st.ValLoss, 0
		st.Best = true
		es.v.keep()
	} else {
		vi.SinceBest++
	}
	es.hist.BestEpoch = vi.BestEpoch
	info := *vi
	es.m.Info.Validation = &info
	return nil
}

// stops reports whether early stopping ends training after the call's
// epoch e of epochs, and records it.
func (es *earlyStopping) stops(e, epochs int) bool {
	if es == nil || es.patience == 0 || es.vi.SinceBest < es.patience || e >= epochs-1 {
		return false
	}
	es.vi.StoppedEarly = true
	return true
}

// finish is every way out of Train but divergence: the model gets the best
// epoch's weights back when early stopping keeps them, and its validation
// state.
func (es *earlyStopping) finish() {
	if es == nil {
		return
	}
	es.v.restore()
	es.m.best = nil
	es.m.Info.Validation = es.vi
}

// release ends the hook: Save writes the model's own weights again.
func (es *earlyStopping) release() {
	if es != nil {
		es.m.best = nil
	}
}
