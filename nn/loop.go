package nn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// loop is the epochs of one Train call: each shuffles the row order, runs
// the trainer's steps over it, and ends with a reading of the meters, the
// divergence rule's judgement, the validation (and early stopping) hook and
// the epoch's statistics.
type loop struct {
	ctx    context.Context
	m      *Model
	tr     *Trainer
	cfg    *Config
	hooks  Hooks
	hist   *History
	es     *earlyStopping // nil without validation
	meters *meters
	div    *divergence
	// perm is the row order, shuffled every epoch; nil when it never
	// changes (full batch: written once, in order).
	perm  []uint32
	start time.Time
	// sched is the learning-rate schedule; lr the rate in the table.
	sched *scheduler
	lr    float64
}

// newLoop prepares the epochs of a Train call of tr's model on train, the
// training rows tr holds.
func newLoop(ctx context.Context, tr *Trainer, train *Set, cfg *Config, hooks Hooks, es *earlyStopping, hist *History) *loop {
	m := tr.m
	div := newDivergence(m, train, cfg.LR)
	l := &loop{ctx: ctx, m: m, tr: tr, cfg: cfg, hooks: hooks, hist: hist, es: es, div: div,
		meters: newMeters(tr, div, m.Info.Step), perm: make([]uint32, tr.rows),
		sched: resumeScheduler(m.Info.Schedule, cfg.Schedule, cfg.LR, cfg.Epochs), lr: cfg.LR}
	for i := range l.perm {
		l.perm[i] = uint32(i)
	}
	return l
}

// run runs the epochs: cfg.Epochs of them, fewer when early stopping or
// ctx ends them. It returns nil, a divergence, ctx's error (see stopped) or
// a device failure.
func (l *loop) run() error {
	l.start = time.Now()
	for e := 0; e < l.cfg.Epochs; e++ {
		if stop, err := l.epoch(e); stop || err != nil {
			return err
		}
		if l.es.stops(e, l.cfg.Epochs) {
			l.hist.StoppedEarly = true
			break
		}
	}
	l.es.finish()
	return l.div.checkWeights(l.m, l.m.Info.Epoch)
}

// epoch runs the call's epoch e (counting from 0). It reports stop when
// training ends with it (cancelled: err says so, having finished the model
// up as run would) or err for a divergence or a device failure.
func (l *loop) epoch(e int) (stop bool, err error) {
	m, tr := l.m, l.tr
	epoch := m.Info.Epoch + 1
	epochStart := time.Now()
	if err := l.shuffle(epoch); err != nil {
		return true, err
	}
	if err := l.setLR(e); err != nil {
		return true, err
	}
	tr.ResetSums()
	l.meters.startEpoch(e, m.Info.Step+1)
	cancelled, err := l.steps(e, epoch)
	if err != nil {
		return true, err
	}
	if l.meters.samples == 0 { // cancelled before the epoch's first step
		l.es.finish()
		return true, l.stopped(epoch)
	}
	validate := l.es != nil && !cancelled
	var v *validator
	if validate {
		v = l.es.v
	}
	loss, count, vloss, vcount, err := l.meters.epochSums(v)
	if err != nil {
		return true, err
	}
	if err := l.meters.endEpoch(epoch, m.Info.Step, loss, count); err != nil {
		return true, err
	}
	now := time.Now()
	samples := l.meters.samples
	st := EpochStats{Epoch: epoch, Steps: m.Info.Step - l.meters.epochFirst + 1, Samples: samples,
		Loss: loss / float64(samples), Accuracy: l.meters.accuracy(count, samples),
		Duration: now.Sub(epochStart), Elapsed: now.Sub(l.start), Partial: cancelled,
		ValLoss: noValidation, ValAccuracy: noValidation, LR: l.lr}
	if secs := st.Duration.Seconds(); secs > 0 {
		st.SamplesPerSec = float64(samples) / secs
	}
	if validate {
		if err := l.es.judge(&st, vloss, vcount, l.div, l.meters.epochFirst, m.Info.Step); err != nil {
			return true, err
		}
	}
	l.hist.Epochs = append(l.hist.Epochs, st)
	if validate {
		l.sched.observe(e, st.ValLoss)
	} else {
		l.sched.observe(e, st.Loss)
	}
	if !cancelled {
		m.Info.Epoch = epoch
		m.Info.Schedule = nil
		if !l.cfg.Schedule.constant() {
			m.Info.Schedule = l.sched.info(e + 1)
		}
	}
	if l.hooks.Epoch != nil {
		l.hooks.Epoch(st)
	}
	if cancelled {
		l.es.finish()
		return true, l.stopped(epoch)
	}
	return false, nil
}

// setLR writes the learning rate of the call's epoch e into the
// optimizer's table when the schedule changes it: one small write, which
// the GPU orders after the steps recorded before it (WriteFloats submits
// them first) and before the epoch's.
func (l *loop) setLR(e int) error {
	lr := l.sched.lr(e)
	if lr == l.lr {
		return nil
	}
	l.lr = lr
	for k := range l.m.models() {
		l.tr.opt.setLR(k, lr)
	}
	if err := l.tr.opt.writeHP(); err != nil {
		return fmt.Errorf("nn: writing the learning rate of epoch %d: %w", l.m.Info.Epoch+1, err)
	}
	return nil
}

// shuffle writes epoch's row order: a shuffle by a PCG source seeded with
// (cfg.Seed, epoch), so that a resumed run shuffles as the uninterrupted
// one would have. Full batch keeps the order written once.
func (l *loop) shuffle(epoch int) error {
	if l.perm == nil {
		return nil
	}
	rng := rand.New(rand.NewPCG(l.cfg.Seed, uint64(epoch)))
	for i := range l.perm {
		l.perm[i] = uint32(i)
	}
	rng.Shuffle(len(l.perm), func(i, j int) { l.perm[i], l.perm[j] = l.perm[j], l.perm[i] })
	if err := l.tr.SetOrder(l.perm); err != nil {
		return fmt.Errorf("nn: writing the order of epoch %d: %w", epoch, err)
	}
	return nil
}

// steps records the steps of the call's epoch e (the model's epoch),
// with their hooks and LogEvery readings, until the order is walked or ctx
// is done (cancelled).
func (l *loop) steps(e, epoch int) (cancelled bool, err error) {
	m, tr := l.m, l.tr
	done := l.ctx.Done()
	steps := tr.StepsPerOrder()
	for s := 0; s < steps; s++ {
		if done != nil {
			select {
			case <-done:
				return true, nil
			default:
			}
		}
		var rows int
		if e == 0 && s == 0 {
			rows = tr.step(tr.first) // see meters
		} else {
			rows = tr.Step()
		}
		m.Info.Step++
		l.meters.samples += rows
		if l.hooks.Step != nil {
			l.hooks.Step(Progress{Epoch: epoch, Step: s + 1, Steps: steps, Samples: l.meters.samples})
		}
		if l.cfg.LogEvery > 0 && m.Info.Step%l.cfg.LogEvery == 0 {
			ls, err := l.meters.log(epoch, m.Info.Step)
			if err != nil {
				return false, err
			}
			l.hist.Logs = append(l.hist.Logs, ls)
			if l.hooks.Log != nil {
				l.hooks.Log(ls)
			}
		}
	}
	return false, nil
}

// stopped is Train's answer to a cancelled ctx: a divergence error if the
// weights went bad in the last step, else ctx.Err() with where it stopped.
func (l *loop) stopped(epoch int) error {
	if err := l.div.checkWeights(l.m, epoch); err != nil {
		return err
	}
	return fmt.Errorf("nn: training stopped in epoch %d after step %d: %w", epoch, l.m.Info.Step, l.ctx.Err())
}
