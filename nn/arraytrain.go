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

// MemberConfig is what may differ between the members of one TrainArray
// call. Zero fields take Config's value.
type MemberConfig struct {
	// ShuffleSeed is the member's row-order seed (Config.Seed's role); 0
	// means Config.Seed.
	ShuffleSeed uint64
	// LR, Momentum, Beta1, Beta2 and Eps are the member's update rule's
	// hyperparameters; 0 means Config's.
	LR, Momentum, Beta1, Beta2, Eps float64
	// WeightDecay is the member's weight decay (Config.WeightDecay's
	// role): 0 means Config's, a negative value none.
	WeightDecay float64
	// Rows: the rows of the training set this member trains on; nil = every
	// row. Every member must list the same number of rows (an error
	// otherwise).
	Rows []int
	// ValRows: rows of the TRAINING set this member validates on (k-fold);
	// nil = Config.Val / Config.ValFraction as for Train. Every member the
	// same count, and either every member lists them or none does.
	ValRows []int
}

// MemberResult is one member's outcome.
type MemberResult struct {
	// History holds the member's per-epoch stats as Train returns them
	// (ValLoss etc. when validating).
	History History
	// Stopped is true when the member stopped early (Config.Patience); it
	// then holds its best epoch's weights.
	Stopped bool
	// Err is the member's own failure, e.g. a *DivergedError: the member
	// diverged and was frozen; the others went on.
	Err error
}

// ArrayHooks are TrainArray's optional callbacks, run on its goroutine;
// they must not use the backend.
type ArrayHooks struct {
	// Epoch is called when member k finished an epoch (not for a stopped or
	// diverged member).
	Epoch func(k int, s EpochStats)
	// Step is called when the array finished a step.
	Step func(p Progress)
}

// TrainArray trains every member of arr on train with cfg (Epochs, Batch,
// Optimizer, Patience, Val, ValFraction, ValSeed and Standardize shared)
// and members[k] (len == arr.Len()). Every step of the array is one
// training step of the members' shape (the dispatches of one model's
// step), each member on its own minibatch: the members' row orders live in
// one Index tensor of N models, written once an epoch, and their
// hyperparameters in the optimizer's table of N rows. Member k trains as
// Train would train NewModel(b, spec, seeds[k]) on train.Take(Rows, …) (the
// rows of train after ValFraction's hold-out, when that is used) with
// Config{Seed: ShuffleSeed, LR: …}: bit for bit on the CPU backend, with
// two differences: Standardize fits the array's shared Scaling to the whole
// training set, and with Config.Dropout member k's masks are keyed by
// seed s+k, where s is the first member's seed when the members' seeds
// are consecutive (s, s+1, …: an ensemble's, and then each member draws
// the masks it draws alone), else Config.Seed, so that each member draws
// its own.
//
// The sums are read once an epoch (LogEvery is not used). A member whose
// epoch loss diverges (see DivergedError), or whose validation loss has not
// improved for Patience epochs, is frozen: its learning rate in the table
// becomes 0, so its parameters no longer change. That saves no
// arithmetic: a frozen member still runs its forward and backward passes
// and its update (of zero size; Momentum's velocity and Adam's moments go
// on accumulating, unused) in every dispatch, because the dispatches serve
// all members at once; it costs one small write of the table. With
// Patience, each member's best epoch's parameters are kept on the host (one
// readback of the array's parameters after an epoch in which some member
// improved) and put back at the end, in one write. A diverged member keeps
// its last parameters. The others go on; TrainArray returns when every
// member has stopped, diverged or run cfg.Epochs.
//
// It returns one result per member; the error is for failures of the whole
// call: a bad configuration or data, a device failure, or cancellation
// (wrapping ctx.Err(), after the current step; the results hold the
// epochs finished so far).
func TrainArray(ctx context.Context, arr *Array, train *Set, cfg Config, members []MemberConfig, hooks ArrayHooks) ([]MemberResult, error) {
	m := arr.m
	m.live()
	n := arr.Len()
	if len(members) != n {
		return nil, fmt.Errorf("nn: %d member configurations for an array of %d models", len(members), n)
	}
	perVal := members[0].ValRows != nil
	for k, mc := range members {
		if (mc.ValRows != nil) != perVal {
			return nil, fmt.Errorf("nn: member %d lists validation rows and member 0 does not, or the other way round", k)
		}
		if len(mc.ValRows) != len(members[0].ValRows) || len(mc.Rows) != len(members[0].Rows) {
			return nil, fmt.Errorf("nn: member %d lists %d training and %d validation rows, member 0 %d and %d (every member the same counts)",
				k, len(mc.Rows), len(mc.ValRows), len(members[0].Rows), len(members[0].ValRows))
		}
	}
	patience := cfg.Patience
	if perVal {
		if cfg.Patience < 0 {
			return nil, fmt.Errorf("nn: patience %d, want 0 (no early stopping) or more", cfg.Patience)
		}
		cfg.Patience, cfg.Val, cfg.ValFraction = 0, nil, 0
	}
	m.Scaling = arr.Scaling
	cfg, train, val, err := m.trainingSets(train, cfg)
	if err != nil {
		return nil, err
	}
	cfg.Patience = patience
	arr.Scaling = m.Scaling
	rows := train.Rows
	if members[0].Rows != nil {
		rows = len(members[0].Rows)
	}
	if rows < 1 {
		return nil, fmt.Errorf("nn: members train on no rows")
	}
	for k, mc := range members {
		for _, list := range [][]int{mc.Rows, mc.ValRows} {
			for _, r := range list {
				if r < 0 || r >= train.Rows {
					return nil, fmt.Errorf("nn: member %d lists row %d of a training set of %d", k, r, train.Rows)
				}
			}
		}
	}
	at := &arrayTraining{ctx: ctx, arr: arr, cfg: &cfg, members: members, hooks: hooks, rows: rows,
		res: make([]MemberResult, n), state: make([]memberState, n)}
	m.Info.Step = arr.infos[0].Step
	at.tr, err = newTrainer(m, train, &cfg, rows, true, nil)
	if err != nil {
		return nil, err
	}
	defer at.tr.Free()
	at.va = newAllocator(m.b)
	defer at.va.free()
	if err := at.setup(train, val); err != nil {
		return nil, err
	}
	at.tr.drop.seed = at.dropSeed()
	err = at.run()
	for k := range arr.infos {
		in := &arr.infos[k]
		in.Epoch += at.state[k].epochs
		in.Step = m.Info.Step
		in.Optimizer = cfg.Optimizer.String()
		in.LR = at.state[k].lr
		in.WeightDecay = at.state[k].wd
		in.Dropout = cfg.Dropout
		in.ShuffleSeed = at.state[k].seed
		in.Data = train.Name
		in.Validation = at.state[k].vi
	}
	return at.res, err
}

// memberState is what TrainArray keeps of one member.
type memberState struct {
	lr, wd float64
	sched  *scheduler
	cur    float64 // the learning rate in the table
	seed   uint64
	div    *divergence
	active bool            // neither stopped nor diverged
	epochs int             // epochs finished
	vi     *ValidationInfo // nil without validation
	best   []float64       // packed parameters of the best epoch (Patience)
}

// arrayTraining is one TrainArray call.
type arrayTraining struct {
	ctx     context.Context
	arr     *Array
	cfg     *Config
	members []MemberConfig
	hooks   ArrayHooks
	rows    int // training rows per member
	tr      *Trainer
	va      *allocator
	ev      *evaluator // nil without validation
	valRows int
	res     []MemberResult
	state   []memberState
}

// dropSeed is the seed of the array's dropout (backend.Dropout: member k
// draws with seed dropSeed+k): the first member's seed when the members'
// seeds are consecutive (s, s+1, …), so that each draws the masks it
// draws trained alone, else Config.Seed.
func (at *arrayTraining) dropSeed() uint64 {
	s0 := at.state[0].seed
	for k := range at.state {
		if at.state[k].seed != s0+uint64(k) {
			return at.cfg.Seed
		}
	}
	return s0
}

// setup writes the members' hyperparameters, prepares their divergence
// rules and validation.
func (at *arrayTraining) setup(train, val *Set) error {
	cfg, m := at.cfg, at.arr.m
	for k, mc := range at.members {
		st := &at.state[k]
		st.active = true
		st.lr, st.seed = pick(mc.LR, cfg.LR), mc.ShuffleSeed
		if st.seed == 0 {
			st.seed = cfg.Seed
		}
		if !(st.lr > 0) || math.IsInf(st.lr, 0) {
			return fmt.Errorf("nn: member %d: learning rate %v, want a positive finite number", k, st.lr)
		}
		wd := pick(mc.WeightDecay, cfg.WeightDecay)
		if wd < 0 {
			wd = 0
		}
		if math.IsInf(wd, 0) || math.IsNaN(wd) {
			return fmt.Errorf("nn: member %d: weight decay %v, want a finite number", k, wd)
		}
		if wd != 0 {
			if err := at.tr.opt.useDecay(at.tr.a, m); err != nil {
				return err
			}
		}
		st.wd = wd
		st.sched, st.cur = newScheduler(cfg.Schedule, st.lr, cfg.Epochs), st.lr
		at.tr.opt.setHP(k, at.tr.opt.hpRow(st.lr, wd, pick(mc.Momentum, cfg.Momentum), pick(mc.Beta1, cfg.Beta1),
			pick(mc.Beta2, cfg.Beta2), pick(mc.Eps, cfg.Eps)))
		sub := train
		if mc.Rows != nil {
			sub = train.Take(mc.Rows, train.Name)
		}
		st.div = newDivergence(m, sub, st.lr)
	}
	if err := at.tr.opt.writeHP(); err != nil {
		return fmt.Errorf("nn: writing the members' hyperparameters: %w", err)
	}
	chunk := max(at.tr.Batch(), 1024)
	switch {
	case at.members[0].ValRows != nil:
		at.valRows = len(at.members[0].ValRows)
		order := at.va.newArray(len(at.members), at.valRows, 1, backend.Index)
		if at.va.err != nil {
			return fmt.Errorf("nn: allocating the validation rows: %w", at.va.err)
		}
		idx := make([]uint32, 0, len(at.members)*at.valRows)
		for _, mc := range at.members {
			for _, r := range mc.ValRows {
				idx = append(idx, uint32(r))
			}
		}
		if err := m.b.WriteIndices(order, idx); err != nil {
			return fmt.Errorf("nn: writing the validation rows: %w", err)
		}
		ev, err := newRowsEvaluator(at.va, m, at.tr.x, at.tr.t, at.tr.scale, order, at.valRows, chunk)
		if err != nil {
			return err
		}
		at.ev = ev
	case val != nil:
		widest := 0
		for _, l := range m.layers {
			widest = max(widest, l.in)
		}
		ev, err := newEvaluator(at.va, m, val, chunk, widest, "validation")
		if err != nil {
			return err
		}
		at.ev, at.valRows = ev, val.Rows
	}
	if at.ev != nil {
		for k := range at.state {
			at.state[k].vi = &ValidationInfo{Fraction: at.cfg.ValFraction, Seed: at.cfg.ValSeed, Rows: at.valRows,
				Patience: at.cfg.Patience, BestLoss: math.Inf(1)}
		}
	}
	for k := range at.res {
		at.res[k].History.TrainRows = at.rows
		at.res[k].History.ValRows = at.valRows
	}
	return nil
}

// pick is v, or def when v is 0.
func pick(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// order fills orders with every member's row order of epoch: Train's
// shuffle of 0..rows−1 by a PCG source seeded with (the member's seed,
// epoch), or the identity for a full batch, mapped through the member's
// Rows.
func (at *arrayTraining) order(orders, perm []uint32, epoch int) {
	full := at.tr.StepsPerOrder() == 1
	for k, mc := range at.members {
		for i := range perm {
			perm[i] = uint32(i)
		}
		if !full {
			rng := rand.New(rand.NewPCG(at.state[k].seed, uint64(epoch)))
			rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		}
		o := orders[k*at.rows : (k+1)*at.rows]
		for i, p := range perm {
			if mc.Rows != nil {
				o[i] = uint32(mc.Rows[p])
			} else {
				o[i] = p
			}
		}
	}
}

// run runs the epochs.
func (at *arrayTraining) run() error {
	m, tr := at.arr.m, at.tr
	orders := make([]uint32, len(at.members)*at.rows)
	perm := make([]uint32, at.rows)
	start := time.Now()
	done := at.ctx.Done()
	for e := 0; e < at.cfg.Epochs; e++ {
		epoch := at.arr.infos[0].Epoch + e + 1
		epochStart := time.Now()
		if err := at.setLRs(e, epoch); err != nil {
			return err
		}
		at.order(orders, perm, epoch)
		if err := tr.SetOrder(orders); err != nil {
			return fmt.Errorf("nn: writing the orders of epoch %d: %w", epoch, err)
		}
		tr.ResetSums()
		first, steps, samples := m.Info.Step+1, tr.StepsPerOrder(), 0
		for s := 0; s < steps; s++ {
			if done != nil {
				select {
				case <-done:
					at.finish()
					return fmt.Errorf("nn: training stopped in epoch %d after step %d: %w", epoch, m.Info.Step, at.ctx.Err())
				default:
				}
			}
			lossT := tr.loss
			if e == 0 && s == 0 {
				lossT = tr.first
			}
			samples += tr.step(lossT)
			m.Info.Step++
			if at.hooks.Step != nil {
				at.hooks.Step(Progress{Epoch: epoch, Step: s + 1, Steps: steps, Samples: samples})
			}
		}
		if err := at.endEpoch(e, epoch, first, samples, epochStart, start); err != nil {
			return err
		}
		if !at.anyActive() {
			break
		}
	}
	return at.finish()
}

// setLRs writes the active members' learning rates of the call's epoch e
// into the optimizer's table, when the schedule changes one (see
// loop.setLR); stopped members stay at 0.
func (at *arrayTraining) setLRs(e, epoch int) error {
	changed := false
	for k := range at.state {
		st := &at.state[k]
		if !st.active {
			continue
		}
		if lr := st.sched.lr(e); lr != st.cur {
			st.cur, changed = lr, true
			at.tr.opt.setLR(k, lr)
		}
	}
	if !changed {
		return nil
	}
	if err := at.tr.opt.writeHP(); err != nil {
		return fmt.Errorf("nn: writing the learning rates of epoch %d: %w", epoch, err)
	}
	return nil
}

func (at *arrayTraining) anyActive() bool {
	for _, st := range at.state {
		if st.active {
			return true
		}
	}
	return false
}

// endEpoch reads the epoch's sums (and validates) in one readback and
// judges every active member: its statistics, divergence and early
// stopping; it freezes the members that stop.
func (at *arrayTraining) endEpoch(e, epoch, first, samples int, epochStart, start time.Time) error {
	m, tr := at.arr.m, at.tr
	ts := []backend.Tensor{tr.loss}
	if tr.count != nil {
		ts = append(ts, tr.count)
	}
	if e == 0 {
		ts = append(ts, tr.first)
	}
	if at.ev != nil {
		at.ev.record()
		ts = append(ts, at.ev.loss)
		if at.ev.count != nil {
			ts = append(ts, at.ev.count)
		}
	}
	r, err := backend.ReadAll(m.b, ts...)
	if err != nil {
		return fmt.Errorf("nn: reading the loss of epoch %d: %w", epoch, err)
	}
	loss, r := r[0], r[1:]
	var count, firstLoss, vloss, vcount []float64
	if tr.count != nil {
		count, r = r[0], r[1:]
	}
	if e == 0 {
		firstLoss, r = r[0], r[1:]
	}
	if at.ev != nil {
		vloss, r = r[0], r[1:]
		if at.ev.count != nil {
			vcount = r[0]
		}
	}
	now := time.Now()
	frozen, improved := false, false
	for k := range at.state {
		st := &at.state[k]
		if !st.active {
			continue
		}
		l := loss[k]
		if e == 0 {
			st.div.start(firstLoss[k] / float64(tr.Batch()))
			l += firstLoss[k]
		}
		es := EpochStats{Epoch: epoch, Steps: m.Info.Step - first + 1, Samples: samples, Loss: l / float64(samples),
			Accuracy: math.NaN(), Duration: now.Sub(epochStart), Elapsed: now.Sub(start),
			ValLoss: noValidation, ValAccuracy: noValidation, LR: st.cur}
		if count != nil {
			es.Accuracy = count[k] / float64(samples)
		}
		if secs := es.Duration.Seconds(); secs > 0 {
			es.SamplesPerSec = float64(samples) / secs
		}
		err := st.div.checkReading(reading{epoch: epoch, epochFirst: first, from: first, to: m.Info.Step, sum: l, mean: es.Loss})
		if err == nil && at.ev != nil {
			es.ValLoss = vloss[k] / float64(at.valRows)
			if vcount != nil {
				es.ValAccuracy = vcount[k] / float64(at.valRows)
			}
			if !finite(vloss[k]) {
				err = st.div.diverged(epoch, first, m.Info.Step, fmt.Sprintf("validation loss is %v", es.ValLoss), 0)
			}
		}
		if err != nil {
			at.res[k].Err = err
			st.active, frozen = false, true
			at.tr.opt.setLR(k, 0)
			continue
		}
		st.epochs++
		if vi := st.vi; vi != nil {
			if es.ValLoss < vi.BestLoss {
				vi.BestEpoch, vi.BestLoss, vi.SinceBest = epoch, es.ValLoss, 0
				es.Best = true
				improved = true
			} else {
				vi.SinceBest++
			}
			at.res[k].History.BestEpoch = vi.BestEpoch
		}
		if at.ev != nil {
			st.sched.observe(e, es.ValLoss)
		} else {
			st.sched.observe(e, es.Loss)
		}
		h := &at.res[k].History
		h.Epochs = append(h.Epochs, es)
		if at.hooks.Epoch != nil {
			at.hooks.Epoch(k, es)
		}
		if p := at.cfg.Patience; p > 0 && st.vi.SinceBest >= p && e < at.cfg.Epochs-1 {
			st.vi.StoppedEarly = true
			at.res[k].Stopped, h.StoppedEarly = true, true
			st.active, frozen = false, true
			at.tr.opt.setLR(k, 0)
		}
	}
	if improved && at.cfg.Patience > 0 {
		all, err := at.arr.packedAll()
		if err != nil {
			return err
		}
		for k := range at.state {
			if h := at.res[k].History; len(h.Epochs) > 0 && h.Epochs[len(h.Epochs)-1].Epoch == epoch && h.Epochs[len(h.Epochs)-1].Best {
				at.state[k].best = append(at.state[k].best[:0], all[k]...)
			}
		}
	}
	if frozen {
		if err := at.tr.opt.writeHP(); err != nil {
			return fmt.Errorf("nn: freezing members: %w", err)
		}
	}
	return nil
}

// finish puts each member's best parameters back (Patience) in one write
// and judges the members' final weights: a member with a non-finite one
// diverged.
func (at *arrayTraining) finish() error {
	all, err := at.arr.packedAll()
	if err != nil {
		return err
	}
	restore := false
	for k, st := range at.state {
		if st.best != nil && at.res[k].Err == nil {
			copy(all[k], st.best)
			restore = true
		}
	}
	if restore {
		_, total := at.arr.m.paramLayout()
		v := make([]float64, 0, len(all)*total)
		for _, p := range all {
			v = append(v, p...)
		}
		if err := at.arr.m.b.WriteFloats(at.arr.m.params, v); err != nil {
			return fmt.Errorf("nn: restoring the best parameters: %w", err)
		}
	}
	for k := range at.state {
		if at.res[k].Err != nil {
			continue
		}
		if err := checkFiniteParams(at.arr.unpack(all[k])); err != nil {
			if !errors.Is(err, errNonFinite) {
				return err
			}
			step := at.arr.m.Info.Step
			at.res[k].Err = at.state[k].div.diverged(at.arr.infos[k].Epoch+at.state[k].epochs, step, step, err.Error(), 0)
		}
	}
	return nil
}
