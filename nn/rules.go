package nn

import (
	"fmt"

	"github.com/gputrain/gputrain/table"
)

// HeadFor returns the head and output width that fit s: BinaryHead and 1
// output for 2 classes, SoftmaxHead and Classes outputs for more, and
// RegressionHead with max(Outputs, 1) outputs for a set without classes
// (Classes 0). A set with 1 class gets a RegressionHead too: there is
// nothing to classify.
func HeadFor(s *Set) (Head, int) {
	switch {
	case s.Classes == 2:
		return BinaryHead, 1
	case s.Classes > 2:
		return SoftmaxHead, s.Classes
	}
	return RegressionHead, max(s.Outputs, 1)
}

// Classes returns the number of classes a model with spec s predicts: 2
// for a BinaryHead, Outputs for a SoftmaxHead, 0 for a RegressionHead. It
// is the inverse of HeadFor.
func (s Spec) Classes() int {
	switch s.Head {
	case BinaryHead:
		return 2
	case SoftmaxHead:
		return s.Outputs
	}
	return 0
}

// fitScaling is FitScaling for m, by FitTableScaling with m's table
// encoding.
func (m *Model) fitScaling(s *Set) (Scaling, error) { return FitTableScaling(s, m.Spec, m.Table) }

// FitTableScaling is FitScaling for a model trained on a table encoded by
// enc: its one-hot inputs are left unscaled (mean 0, standard deviation 1),
// so that they stay 0 or 1; number inputs and regression targets are
// standardised. With enc nil it is FitScaling.
func FitTableScaling(s *Set, spec Spec, enc *table.Encoder) (Scaling, error) {
	sc, err := FitScaling(s, spec)
	if err != nil || enc == nil || !sc.HasFeatures() {
		return sc, err
	}
	for j, num := range enc.NumberInputs() {
		if j < len(sc.FeatureMean) && !num {
			sc.FeatureMean[j], sc.FeatureStd[j] = 0, 1
		}
	}
	return sc, nil
}

// Score is an evaluation by head: the loss and, for a classifier, the
// accuracy (Metrics), and for a RegressionHead the errors in the targets'
// units (Regression, nil for a classifier).
type Score struct {
	Metrics
	Regression *RegressionMetrics
}

// String describes s: "loss 0.1234, accuracy 97.50% on 359 rows" for a
// classifier, "loss 0.1234 (standardised), RMSE 1.5, MAE 1.2, R² 0.8765 on
// 100 rows" for a regression.
func (s Score) String() string {
	if s.Regression == nil {
		return fmt.Sprintf("loss %.4f, accuracy %.2f%% on %d rows", s.Loss, 100*s.Accuracy, s.Rows)
	}
	rm := s.Regression
	return fmt.Sprintf("loss %.4f (standardised), RMSE %.6g, MAE %.6g, R² %.4f on %d rows", s.Loss, rm.RMSE, rm.MAE, rm.R2, s.Rows)
}

// Score evaluates m on s by its head: Evaluate, and for a RegressionHead
// EvaluateRegression too, in chunks of at most batch rows (0: all at
// once). It returns their errors; it panics if m was freed.
func (m *Model) Score(s *Set, batch int) (Score, error) {
	ev, err := m.Evaluate(s, batch)
	if err != nil {
		return Score{Metrics: ev}, err
	}
	sc := Score{Metrics: ev}
	if m.Spec.Head != RegressionHead {
		return sc, nil
	}
	rm, err := m.EvaluateRegression(s, batch)
	if err != nil {
		return sc, err
	}
	sc.Regression = &rm
	return sc, nil
}

// Checkpointer saves a model during training one loss reading behind, so
// that what it writes is only ever a state a later reading showed to be
// sound: Hold keeps a state in memory, Vouch writes the held state once
// the next epoch has ended without diverging (Train judges every epoch's
// loss before it reports the epoch through Hooks.Epoch), and Save writes
// the current state at once (the end of a run, an interrupt). A run that
// diverges therefore leaves the last vouched-for state written, and never
// one whose update blew the loss up (a full-batch epoch's loss is measured
// before its update: only the next epoch's shows what the update did).
//
// Write receives each checkpoint's bytes (Model.Checkpoint) and the epoch
// they hold, e.g. to write them atomically to a file. A Checkpointer with a
// nil Write does nothing.
type Checkpointer struct {
	Write func(checkpoint []byte, epoch int) error

	held      []byte
	heldEpoch int
	saved     int
	err       error // the first error of Epoch's hook
}

// Hold keeps m's state after epoch in memory, to be written by the next
// Vouch; it replaces any state held before.
func (c *Checkpointer) Hold(m *Model, epoch int) error {
	if c.Write == nil {
		return nil
	}
	b, err := m.Checkpoint()
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	c.held, c.heldEpoch = b, epoch
	return nil
}

// Vouch writes the held state, if any: call it when an epoch after the
// held one has ended without diverging.
func (c *Checkpointer) Vouch() error {
	if c.held == nil {
		return nil
	}
	b, epoch := c.held, c.heldEpoch
	c.held = nil
	return c.put(b, epoch)
}

// Save writes m's state after epoch now, dropping any held state.
func (c *Checkpointer) Save(m *Model, epoch int) error {
	if c.Write == nil {
		return nil
	}
	c.held = nil
	b, err := m.Checkpoint()
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return c.put(b, epoch)
}

func (c *Checkpointer) put(b []byte, epoch int) error {
	if err := c.Write(b, epoch); err != nil {
		return err
	}
	c.saved = epoch
	return nil
}

// Saved returns the epoch of the last state written, 0 if none.
func (c *Checkpointer) Saved() int { return c.saved }

// Epoch is the Hooks.Epoch of a run that checkpoints every epoch (every
// epoch for which keep returns true, or every one when keep is nil): it
// writes the held state when an epoch ends, then holds m's new state. A
// Partial epoch writes and holds nothing. The first error is kept (see
// Err) and no more is written after it; a caller that wants training to
// stop then cancels its context from onErr (which may be nil).
func (c *Checkpointer) Epoch(m *Model, keep func(EpochStats) bool, onErr func(error)) func(EpochStats) {
	return func(s EpochStats) {
		if s.Partial || c.err != nil {
			return
		}
		err := c.Vouch()
		if err == nil && (keep == nil || keep(s)) {
			err = c.Hold(m, s.Epoch)
		}
		if err != nil {
			c.err = err
			if onErr != nil {
				onErr(err)
			}
		}
	}
}

// Err returns the first error of the hook Epoch made, nil if none.
func (c *Checkpointer) Err() error { return c.err }
