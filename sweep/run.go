package sweep

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/nn"
)

// Sweep is a planned sweep, or one shard of it: its trials grouped into
// model arrays that fit the device, ready to train. Make one with New.
type Sweep struct {
	Plan  Plan
	Shard Shard
	// Train is the training set; every fold's rows index it.
	Train *data.Set
	// Folds are the splits every trial trains and validates on.
	Folds []Fold
	// Trials are the shard's trials, in order.
	Trials []Trial
	// Chunks are the model arrays, in the order they train.
	Chunks []Chunk
	// Fingerprint identifies the whole sweep (Fingerprint).
	Fingerprint string
}

// New plans sweep p on train for shard (the zero Shard for the whole
// grid): it validates p, draws the folds, slices the trial list and groups
// the shard's trials into model arrays that fit lim. Every error it
// returns comes before any training.
func New(p Plan, train *data.Set, shard Shard, lim Limits) (*Sweep, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if train == nil || train.Rows == 0 {
		return nil, fmt.Errorf("sweep: no training rows")
	}
	if !shard.Whole() {
		if err := shard.validate(); err != nil {
			return nil, err
		}
	}
	folds, err := p.Splits(train)
	if err != nil {
		return nil, err
	}
	all := p.Grid.Trials()
	lo, hi := shard.Range(len(all))
	fp, err := Fingerprint(p, train)
	if err != nil {
		return nil, err
	}
	s := &Sweep{Plan: p, Shard: shard, Train: train, Folds: folds, Trials: all[lo:hi], Fingerprint: fp}
	if s.Chunks, err = p.Schedule(train, s.Trials, folds, lim); err != nil {
		return nil, err
	}
	return s, nil
}

// Models returns the number of models the sweep trains: its trials times
// the folds.
func (s *Sweep) Models() int { return len(s.Trials) * len(s.Folds) }

// Hooks are Run's optional callbacks, called on Run's goroutine.
type Hooks struct {
	// Chunk is called before chunk i of the sweep's n starts training.
	Chunk func(i, n int, c Chunk)
	// Epoch is called when member m finished an epoch.
	Epoch func(m Member, s nn.EpochStats)
	// Step is called when an array finished a step.
	Step func(p nn.Progress)
}

// Run trains every chunk of s on b, one model array after another
// (nn.NewArray and nn.TrainArray), each member with its own seed (initial
// weights and row order), learning rate, training and validation rows.
// scaling is every model's (see nn.Model.Scaling); the zero Scaling for
// images. device names b in Results.Runs. A model that diverges is
// recorded as such and the sweep goes on; a cancelled ctx returns an error
// wrapping ctx.Err().
func (s *Sweep) Run(ctx context.Context, b backend.Backend, scaling nn.Scaling, device string, hooks Hooks) (*Results, error) {
	start := time.Now()
	configs := s.Plan.Grid.Configs()
	r := &Results{Fingerprint: s.Fingerprint, Plan: s.Plan, TrialCount: s.Plan.Grid.Size(),
		Data: Data{Name: s.Train.Name, Rows: s.Train.Rows, Classes: s.Train.Classes, TrainRows: len(s.Folds[0].Train), ValRows: len(s.Folds[0].Val)}}
	if !s.Shard.Whole() {
		sh := s.Shard
		r.Shard = &sh
	}
	r.Trials = make([]TrialResult, len(s.Trials))
	at := map[int]int{} // trial index to its place in r.Trials
	for i, t := range s.Trials {
		at[t.Index] = i
		r.Trials[i] = TrialResult{Trial: t.Index, Config: t.Config, Params: configs[t.Config], Seed: t.Seed, Folds: make([]FoldResult, len(s.Folds))}
	}
	for i, c := range s.Chunks {
		if hooks.Chunk != nil {
			hooks.Chunk(i, len(s.Chunks), c)
		}
		res, err := s.train(ctx, b, scaling, c, configs, hooks)
		if err != nil {
			return nil, err
		}
		for k, m := range c.Members {
			r.Trials[at[m.Trial.Index]].Folds[m.Fold] = foldResult(m.Fold, res[k])
		}
	}
	for i := range r.Trials {
		r.Trials[i].summarize()
	}
	r.Summarize()
	r.Runs = []Run{{Shard: s.Shard.String(), Device: device, Seconds: time.Since(start).Seconds()}}
	return r, nil
}

// train trains one chunk as one model array.
func (s *Sweep) train(ctx context.Context, b backend.Backend, scaling nn.Scaling, c Chunk, configs []Config, hooks Hooks) ([]nn.MemberResult, error) {
	seeds := make([]uint64, len(c.Members))
	members := make([]nn.MemberConfig, len(c.Members))
	for k, m := range c.Members {
		f := s.Folds[m.Fold]
		seeds[k] = m.Trial.Seed
		cc := configs[m.Trial.Config]
		// WeightDecay 0 is Config's, which is 0: none.
		members[k] = nn.MemberConfig{ShuffleSeed: m.Trial.Seed, LR: cc.LR, WeightDecay: cc.WeightDecay, Rows: f.Train, ValRows: f.Val}
	}
	arr, err := nn.NewArray(b, c.Spec, seeds)
	if err != nil {
		return nil, fmt.Errorf("sweep: array of %d models of %v: %w", len(seeds), c.Spec, err)
	}
	defer arr.Free()
	arr.Scaling = scaling
	// Seed 0 and the first member's LR: every member overrides both; no
	// weight decay but the members'.
	cfg := s.Plan.ConfigFor(configs[c.Members[0].Trial.Config], s.Plan.Epochs)
	cfg.LR, cfg.WeightDecay, cfg.Patience = members[0].LR, 0, s.Plan.Patience
	ah := nn.ArrayHooks{Step: hooks.Step}
	if hooks.Epoch != nil {
		ah.Epoch = func(k int, st nn.EpochStats) { hooks.Epoch(c.Members[k], st) }
	}
	res, err := nn.TrainArray(ctx, arr, s.Train, cfg, members, ah)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("sweep: interrupted: %w", ctx.Err())
		}
		return nil, fmt.Errorf("sweep: training an array of %d models of %v: %w", len(seeds), c.Spec, err)
	}
	if len(res) != len(members) {
		return nil, fmt.Errorf("sweep: TrainArray returned %d results for %d members", len(res), len(members))
	}
	return res, nil
}

// foldResult records a member's outcome.
func foldResult(fold int, mr nn.MemberResult) FoldResult {
	nan := Num(math.NaN())
	f := FoldResult{Fold: fold, BestEpoch: mr.History.BestEpoch, StoppedEarly: mr.Stopped,
		Loss: nan, Accuracy: nan, ValLoss: nan, ValAccuracy: nan, History: []Epoch{}}
	for _, e := range mr.History.Epochs {
		if e.Partial {
			continue
		}
		f.Epochs++
		ep := Epoch{Epoch: e.Epoch, Loss: Num(e.Loss), Accuracy: Num(e.Accuracy), ValLoss: Num(e.ValLoss), ValAccuracy: Num(e.ValAccuracy)}
		f.History = append(f.History, ep)
		if e.Epoch == f.BestEpoch {
			f.Loss, f.Accuracy, f.ValLoss, f.ValAccuracy = ep.Loss, ep.Accuracy, ep.ValLoss, ep.ValAccuracy
		}
	}
	if mr.Err != nil {
		f.Error = mr.Err.Error()
		f.ValLoss, f.ValAccuracy = nan, nan
	}
	return f
}

// summarize sets a trial's means over its folds.
func (t *TrialResult) summarize() {
	var loss, acc float64
	for _, f := range t.Folds {
		loss += float64(f.ValLoss)
		acc += float64(f.ValAccuracy)
	}
	n := float64(len(t.Folds))
	t.ValLoss, t.ValAccuracy = Num(loss/n), Num(acc/n)
}

// RetrainEpochs returns the epochs the best configuration c is retrained
// for on all training rows: with early stopping (Plan.Patience), its mean
// best epoch rounded (at least 1), the point where validation said to
// stop; without, Plan.Epochs.
func (p Plan) RetrainEpochs(c ConfigResult) int {
	if p.Patience > 0 && !math.IsNaN(float64(c.BestEpoch)) {
		return max(1, int(math.Round(float64(c.BestEpoch))))
	}
	return p.Epochs
}

// Retrain trains configuration c anew on every row of train (no
// validation) for epochs epochs, as one model seeded with the grid's
// first seed, and returns the model (the caller frees it) and its history.
// scaling is the model's (the zero Scaling for images).
func Retrain(ctx context.Context, b backend.Backend, train *data.Set, scaling nn.Scaling, p Plan, c Config, epochs int, hooks nn.Hooks) (*nn.Model, nn.History, error) {
	seed := p.Grid.Seeds[0]
	m, err := nn.NewModel(b, SpecFor(c, train), seed)
	if err != nil {
		return nil, nn.History{}, fmt.Errorf("sweep: retraining %v: %w", c, err)
	}
	m.Scaling = scaling
	cfg := p.ConfigFor(c, epochs)
	cfg.Seed = seed
	hist, err := nn.Train(ctx, b, m, train, cfg, hooks)
	if err != nil {
		m.Free()
		return nil, hist, fmt.Errorf("sweep: retraining %v: %w", c, err)
	}
	return m, hist, nil
}
