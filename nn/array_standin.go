package nn

// This file is the SEQUENTIAL STAND-IN for the model-array engine of issue
// 20 (the contract in spec/array-api.md): it has the engine's exact API and
// implements it by training the members one after another with NewModel and
// Train. The engine branch replaces this file at merge; nothing else depends
// on how it works.

import (
	"context"
	"errors"
	"fmt"

	"github.com/gputrain/gputrain/backend"
)

// Array is N models of one Spec (N >= 1). In this sequential stand-in each
// member is a Model of its own; the engine keeps their parameters,
// gradients and optimizer state in the same backend tensors and trains
// them with the same dispatches.
type Array struct {
	// Scaling maps data units to model units for every member (see
	// Model.Scaling); set it before TrainArray.
	Scaling Scaling

	b      backend.Backend
	spec   Spec
	models []*Model
}

// NewArray builds len(seeds) models of spec on b, model k's weights drawn
// from seeds[k] exactly as NewModel(b, spec, seeds[k]) draws them.
func NewArray(b backend.Backend, spec Spec, seeds []uint64) (*Array, error) {
	if len(seeds) == 0 {
		return nil, fmt.Errorf("nn: NewArray: no seeds, want at least one member")
	}
	a := &Array{b: b, spec: spec}
	a.spec.Hidden = append([]int(nil), spec.Hidden...)
	for _, s := range seeds {
		m, err := NewModel(b, spec, s)
		if err != nil {
			a.Free()
			return nil, err
		}
		a.models = append(a.models, m)
	}
	return a, nil
}

// Len returns the number of members.
func (a *Array) Len() int { return len(a.models) }

// Spec returns the members' architecture.
func (a *Array) Spec() Spec {
	s := a.spec
	s.Hidden = append([]int(nil), a.spec.Hidden...)
	return s
}

// member returns member k, or an error naming k when it is out of range.
func (a *Array) member(k int) (*Model, error) {
	if k < 0 || k >= len(a.models) {
		return nil, fmt.Errorf("nn: array member %d out of range 0..%d", k, len(a.models)-1)
	}
	a.models[k].live()
	return a.models[k], nil
}

// Params returns member k's parameters on the host.
func (a *Array) Params(k int) ([]Params, error) {
	m, err := a.member(k)
	if err != nil {
		return nil, err
	}
	return m.Params()
}

// Model returns a standalone Model on the array's backend holding member
// k's parameters, Spec, Scaling and Info. The caller frees it.
func (a *Array) Model(k int) (*Model, error) {
	src, err := a.member(k)
	if err != nil {
		return nil, err
	}
	ps, err := src.Params()
	if err != nil {
		return nil, err
	}
	m, err := NewModel(a.b, a.spec, src.Info.Seed)
	if err != nil {
		return nil, err
	}
	if err := m.SetParams(ps); err != nil {
		m.Free()
		return nil, err
	}
	m.Scaling = a.Scaling
	m.Info = src.Info
	m.Table = src.Table
	return m, nil
}

// Free releases every member. The array is unusable afterwards; Free may
// be called more than once.
func (a *Array) Free() {
	for _, m := range a.models {
		m.Free()
	}
}

// MemberConfig is what may differ between the members of one TrainArray
// call. Zero fields take Config's value.
type MemberConfig struct {
	// ShuffleSeed is the member's row-order seed (Config.Seed's role); 0
	// means Config.Seed.
	ShuffleSeed uint64
	// LR, Momentum, Beta1, Beta2 and Eps override Config's; 0 means
	// Config's.
	LR, Momentum, Beta1, Beta2, Eps float64
	// Rows are the rows of the training set this member trains on; nil
	// means every row. Every member must list the same number of rows.
	Rows []int
	// ValRows are rows of the training set this member validates on
	// (k-fold); nil means Config.Val / Config.ValFraction as for Train.
	// Every member must list the same number.
	ValRows []int
}

// MemberResult is one member's outcome.
type MemberResult struct {
	// History holds the per-epoch stats as Train returns them.
	History History
	// Stopped is true when the member stopped early (Config.Patience); it
	// then holds its best epoch's weights.
	Stopped bool
	// Err is the member's own failure, e.g. a *DivergedError: the member
	// was frozen and the others went on.
	Err error
}

// ArrayHooks are TrainArray's optional callbacks.
type ArrayHooks struct {
	// Epoch is called when member k finished an epoch (not for a stopped
	// or diverged member, nor for an epoch cut short by cancellation).
	Epoch func(k int, s EpochStats)
	// Step is called when the array finished a step.
	Step func(p Progress)
}

// TrainArray trains every member of arr on train with cfg (Epochs, Batch,
// Optimizer, Patience, LogEvery... shared) and members[k] (len ==
// arr.Len()). A member that stops early or diverges is frozen; the others
// go on. It returns one result per member; the error is for failures of
// the whole call (device, bad configuration, cancellation: ctx.Err()).
//
// This sequential stand-in trains member k by Train on train.Take(Rows)
// with Config{Seed: ShuffleSeed, LR: ..., Val: train.Take(ValRows)}, one
// member after another: exactly the solo run the engine's members must
// equal.
func TrainArray(ctx context.Context, arr *Array, train *Set, cfg Config, members []MemberConfig, hooks ArrayHooks) ([]MemberResult, error) {
	if len(members) != arr.Len() {
		return nil, fmt.Errorf("nn: TrainArray: %d member configs for an array of %d", len(members), arr.Len())
	}
	if err := checkMembers(train, members); err != nil {
		return nil, err
	}
	sets := make([]*Set, len(members))
	cfgs := make([]Config, len(members))
	for k, mc := range members {
		sets[k], cfgs[k] = memberRun(train, cfg, mc, k)
		if _, err := cfgs[k].withDefaults(); err != nil {
			return nil, fmt.Errorf("nn: array member %d: %w", k, err)
		}
	}
	res := make([]MemberResult, len(members))
	for k := range members {
		m, err := arr.member(k)
		if err != nil {
			return res, err
		}
		m.Scaling = arr.Scaling
		set, mcfg := sets[k], cfgs[k]
		h := Hooks{Step: hooks.Step}
		if hooks.Epoch != nil {
			h.Epoch = func(s EpochStats) {
				if !s.Partial {
					hooks.Epoch(k, s)
				}
			}
		}
		hist, err := Train(ctx, arr.b, m, set, mcfg, h)
		res[k] = MemberResult{History: hist, Stopped: hist.StoppedEarly}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return res, ctx.Err()
		case errors.Is(err, ErrDiverged):
			res[k].Err = err
		default:
			return res, fmt.Errorf("nn: array member %d: %w", k, err)
		}
	}
	return res, nil
}

// checkMembers checks that every member lists the same number of rows and
// of validation rows, all in range.
func checkMembers(train *Set, members []MemberConfig) error {
	if train == nil {
		return fmt.Errorf("nn: TrainArray: nil training set")
	}
	for k, mc := range members {
		if (mc.Rows == nil) != (members[0].Rows == nil) || len(mc.Rows) != len(members[0].Rows) {
			return fmt.Errorf("nn: TrainArray: member %d trains on %d rows, member 0 on %d: every member needs the same count", k, len(mc.Rows), len(members[0].Rows))
		}
		if (mc.ValRows == nil) != (members[0].ValRows == nil) || len(mc.ValRows) != len(members[0].ValRows) {
			return fmt.Errorf("nn: TrainArray: member %d validates on %d rows, member 0 on %d: every member needs the same count", k, len(mc.ValRows), len(members[0].ValRows))
		}
		for _, rows := range [][]int{mc.Rows, mc.ValRows} {
			for _, r := range rows {
				if r < 0 || r >= train.Rows {
					return fmt.Errorf("nn: TrainArray: member %d lists row %d of %s, outside 0..%d", k, r, train.Name, train.Rows-1)
				}
			}
		}
	}
	return nil
}

// memberRun returns the training set and configuration of member k's solo
// run.
func memberRun(train *Set, cfg Config, mc MemberConfig, k int) (*Set, Config) {
	override := func(dst *float64, v float64) {
		if v != 0 {
			*dst = v
		}
	}
	if mc.ShuffleSeed != 0 {
		cfg.Seed = mc.ShuffleSeed
	}
	override(&cfg.LR, mc.LR)
	override(&cfg.Momentum, mc.Momentum)
	override(&cfg.Beta1, mc.Beta1)
	override(&cfg.Beta2, mc.Beta2)
	override(&cfg.Eps, mc.Eps)
	set := train
	if mc.Rows != nil {
		set = train.Take(mc.Rows, train.Name)
	}
	if mc.ValRows != nil {
		cfg.Val = train.Take(mc.ValRows, fmt.Sprintf("%s (member %d validation)", train.Name, k))
		cfg.ValFraction = 0
	}
	return set, cfg
}
