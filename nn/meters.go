package nn

import (
	"fmt"
	"math"

	"github.com/gputrain/gputrain/backend"
)

// meters turn the trainer's sums into Train's figures. The device adds
// every step's loss and correct count to the trainer's sums, which restart
// every epoch; the meters read them where Train reads anyway (every
// LogEvery steps and at the end of every epoch, one readback each) and
// keep what a reading needs from the previous one: a LogEvery reading
// covers the rows since the last one, which may lie partly in earlier
// epochs (the carry).
//
// The call's first step adds its loss to the trainer's first tensor rather
// than to the sums, so that the first reading, which reads it too, tells
// the divergence rule where the run started without a reading of its own;
// it is then added back to the first epoch's sums.
type meters struct {
	tr  *Trainer
	div *divergence

	firstSum   float64 // the first step's loss, once read
	firstKnown bool

	// The rows, loss and count since the last LogEvery reading that were
	// summed in earlier epochs, and that reading's global step.
	carryLoss, carryCount float64
	carryRows, logStep    int

	// The current epoch: the call's epoch e, its first global step, its
	// rows so far, and the sums and rows at its last LogEvery reading.
	e, epochFirst, samples int
	logLoss, logCount      float64
	logRows                int
	logged                 bool
}

// newMeters returns the meters of a Train call that starts after the
// model's global step.
func newMeters(tr *Trainer, div *divergence, step int) *meters {
	return &meters{tr: tr, div: div, logStep: step}
}

// startEpoch starts the call's epoch e, whose first global step is first.
func (mt *meters) startEpoch(e, first int) {
	mt.e, mt.epochFirst, mt.samples = e, first, 0
	mt.logLoss, mt.logCount, mt.logRows, mt.logged = 0, 0, 0, false
}

// extra is the tensors a reading reads besides the sums: the first step's
// loss until it is known.
func (mt *meters) extra() []backend.Tensor {
	if mt.firstKnown {
		return nil
	}
	return []backend.Tensor{mt.tr.first}
}

// took adds what a reading of the sums (loss) leaves out: the first step's
// loss, in the first epoch. firstRead is what it read of extra; the first
// time, it sets the divergence rule's reference.
func (mt *meters) took(loss float64, firstRead []float64) float64 {
	if !mt.firstKnown {
		mt.firstSum, mt.firstKnown = firstRead[0], true
		mt.div.start(mt.firstSum / float64(mt.tr.Batch()))
	}
	if mt.e == 0 {
		loss += mt.firstSum
	}
	return loss
}

// read reads the epoch's sums so far.
func (mt *meters) read() (loss, count float64, err error) {
	loss, count, ex, err := mt.tr.readSums(mt.extra()...)
	if err != nil {
		return 0, 0, fmt.Errorf("nn: reading the loss: %w", err)
	}
	return mt.took(loss, ex), count, nil
}

// accuracy is count over rows; NaN for a RegressionHead.
func (mt *meters) accuracy(count float64, rows int) float64 {
	if mt.tr.count == nil {
		return math.NaN()
	}
	return count / float64(rows)
}

// log takes the LogEvery reading after global step step of epoch: the
// mean loss and accuracy of the rows since the previous one, judged by the
// divergence rule.
func (mt *meters) log(epoch, step int) (LogStats, error) {
	l, c, err := mt.read()
	if err != nil {
		return LogStats{}, err
	}
	rows := mt.samples - mt.logRows + mt.carryRows
	mean := (l - mt.logLoss + mt.carryLoss) / float64(rows)
	if err := mt.div.checkReading(reading{epoch: epoch, epochFirst: mt.epochFirst, from: mt.logStep + 1, to: step, sum: l, mean: mean}); err != nil {
		return LogStats{}, err
	}
	ls := LogStats{Epoch: epoch, Step: step, Loss: mean, Accuracy: mt.accuracy(c-mt.logCount+mt.carryCount, rows), Samples: rows}
	mt.logLoss, mt.logCount, mt.logRows, mt.logStep, mt.logged = l, c, mt.samples, step, true
	mt.carryLoss, mt.carryCount, mt.carryRows = 0, 0, 0
	return ls, nil
}

// epochSums returns the epoch's loss and count sums: with v's validation
// sums when v is not nil (evaluated now, read in the same readback), else
// the last LogEvery reading's when it was at the epoch's last step, else
// read.
func (mt *meters) epochSums(v *validator) (loss, count, vloss, vcount float64, err error) {
	switch {
	case v != nil:
		v.record()
		var ex []float64
		if loss, count, vloss, vcount, ex, err = v.readSums(mt.tr.loss, mt.tr.count, mt.extra()...); err != nil {
			return 0, 0, 0, 0, err
		}
		return mt.took(loss, ex), count, vloss, vcount, nil
	case mt.logRows == mt.samples:
		return mt.logLoss, mt.logCount, 0, 0, nil
	}
	loss, count, err = mt.read()
	return loss, count, 0, 0, err
}

// endEpoch judges the epoch's mean loss as a whole (a blow-up after the
// last LogEvery reading raises it too) over the steps since the last
// reading, up to global step step, and carries the rows since that reading
// into the next epoch.
func (mt *meters) endEpoch(epoch, step int, loss, count float64) error {
	from := mt.epochFirst
	if mt.logged {
		from = mt.logStep + 1
	}
	r := reading{epoch: epoch, epochFirst: mt.epochFirst, from: from, to: step, sum: loss, mean: loss / float64(mt.samples)}
	if err := mt.div.checkReading(r); err != nil {
		return err
	}
	mt.carryLoss += loss - mt.logLoss
	mt.carryCount += count - mt.logCount
	mt.carryRows += mt.samples - mt.logRows
	return nil
}
