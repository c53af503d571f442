package nn

import (
	"fmt"
	"math"

	"github.com/gputrain/gputrain/internal/enum"
)

// ScheduleKind names a learning-rate schedule.
type ScheduleKind uint8

const (
	// ConstantLR keeps the learning rate (after any warm-up).
	ConstantLR ScheduleKind = iota
	// CosineLR anneals it from LR to MinLR over the epochs after the
	// warm-up, as PyTorch's CosineAnnealingLR with T_max those epochs:
	// MinLR + (LR − MinLR)·(1 + cos(π·t/T))/2 in epoch t of T.
	CosineLR
	// StepLR multiplies it by StepGamma every StepEvery epochs, as
	// PyTorch's StepLR.
	StepLR
	// PlateauLR multiplies it by PlateauFactor (not below MinLR) when the
	// monitored loss (the validation loss with a validation set, else the
	// training loss) has not improved (by a relative 1e-4) for more than
	// PlateauPatience epochs, as PyTorch's ReduceLROnPlateau in mode min.
	PlateauLR
)

var scheduleNames = enum.Names[ScheduleKind]{ConstantLR: "constant", CosineLR: "cosine", StepLR: "step", PlateauLR: "plateau"}

func (k ScheduleKind) String() string { return scheduleNames.String(k, "ScheduleKind") }

// ParseSchedule returns the schedule named s ("constant", "cosine", "step"
// or "plateau", in any case).
func ParseSchedule(s string) (ScheduleKind, error) {
	if k, ok := scheduleNames.Parse(s); ok {
		return k, nil
	}
	return 0, fmt.Errorf("unknown schedule %q (want one of %s)", s, scheduleNames.List())
}

// Schedule is a learning-rate schedule over the epochs of one Train (or
// TrainArray) call: the learning rate of each epoch, which the host writes
// into the optimizer's hyperparameter table before the epoch's first step
// (a write of one small table, ordered after the steps recorded before it;
// no new pipeline, no allocation, no extra dispatch). The zero Schedule
// keeps Config.LR. A model array schedules each member from its own
// learning rate (and, for PlateauLR, its own loss).
type Schedule struct {
	// Kind is the schedule after the warm-up.
	Kind ScheduleKind
	// Warmup is the number of warm-up epochs: epoch e (from 1) of them
	// runs at LR·e/(Warmup+1), rising linearly toward LR.
	Warmup int
	// MinLR is the floor of CosineLR and PlateauLR (0 or more).
	MinLR float64
	// StepEvery is StepLR's period in epochs (at least 1 for StepLR).
	StepEvery int
	// StepGamma is StepLR's factor; 0 means 0.1 (PyTorch's default).
	StepGamma float64
	// PlateauPatience is the number of epochs without improvement that
	// PlateauLR tolerates; 0 means 10 (PyTorch's default).
	PlateauPatience int
	// PlateauFactor is PlateauLR's factor; 0 means 0.1 (PyTorch's default).
	PlateauFactor float64
}

// constant reports whether s never changes the learning rate.
func (s Schedule) constant() bool { return s.Kind == ConstantLR && s.Warmup == 0 }

// withDefaults fills the zero constants and validates s.
func (s Schedule) withDefaults() (Schedule, error) {
	if !scheduleNames.Valid(s.Kind) {
		return s, fmt.Errorf("nn: unknown schedule %v", s.Kind)
	}
	if s.Warmup < 0 {
		return s, fmt.Errorf("nn: schedule warm-up %d epochs, want 0 or more", s.Warmup)
	}
	if !(s.MinLR >= 0) || math.IsInf(s.MinLR, 0) {
		return s, fmt.Errorf("nn: schedule MinLR %v, want 0 or a positive finite number", s.MinLR)
	}
	if s.StepGamma == 0 {
		s.StepGamma = 0.1
	}
	if s.PlateauFactor == 0 {
		s.PlateauFactor = 0.1
	}
	if s.PlateauPatience == 0 {
		s.PlateauPatience = 10
	}
	switch {
	case s.Kind == StepLR && s.StepEvery < 1:
		return s, fmt.Errorf("nn: step schedule every %d epochs, want at least 1 (StepEvery)", s.StepEvery)
	case !(s.StepGamma > 0 && s.StepGamma <= 1):
		return s, fmt.Errorf("nn: step schedule gamma %v, want a number in (0, 1] (StepGamma)", s.StepGamma)
	case !(s.PlateauFactor > 0 && s.PlateauFactor < 1):
		return s, fmt.Errorf("nn: plateau schedule factor %v, want a number in (0, 1) (PlateauFactor)", s.PlateauFactor)
	case s.PlateauPatience < 0:
		return s, fmt.Errorf("nn: plateau schedule patience %d, want 0 (10) or more (PlateauPatience)", s.PlateauPatience)
	}
	return s, nil
}

// scheduler is one model's schedule in one Train call.
type scheduler struct {
	s      Schedule
	base   float64 // the model's learning rate
	epochs int     // the schedule's epochs (its horizon)
	// offset is the schedule's epochs run before the call (a schedule
	// continued from a checkpoint's ScheduleInfo); the call's epoch t is
	// the schedule's epoch offset+t.
	offset int
	// PlateauLR's state: the factor reached, the best loss and the epochs
	// since it.
	scale float64
	best  float64
	bad   int
}

func newScheduler(s Schedule, base float64, epochs int) *scheduler {
	return &scheduler{s: s, base: base, epochs: epochs, scale: 1, best: math.Inf(1)}
}

// lr is the learning rate of the call's epoch t (from 0).
func (c *scheduler) lr(t int) float64 {
	s := c.s
	t += c.offset
	if t < s.Warmup {
		return c.base * float64(t+1) / float64(s.Warmup+1)
	}
	u, n := t-s.Warmup, max(c.epochs-s.Warmup, 1)
	switch s.Kind {
	case CosineLR:
		return s.MinLR + (c.base-s.MinLR)*(1+math.Cos(math.Pi*float64(u)/float64(n)))/2
	case StepLR:
		return c.base * math.Pow(s.StepGamma, float64(u/s.StepEvery))
	case PlateauLR:
		return max(c.base*c.scale, s.MinLR)
	}
	return c.base
}

// observe takes the monitored loss of the call's epoch t: PlateauLR
// lowers its factor after more than PlateauPatience epochs without a
// relative improvement of 1e-4 (the warm-up epochs are not judged).
func (c *scheduler) observe(t int, loss float64) {
	if c.s.Kind != PlateauLR || t+c.offset < c.s.Warmup || math.IsNaN(loss) {
		return
	}
	if loss < c.best*(1-1e-4) {
		c.best, c.bad = loss, 0
		return
	}
	c.bad++
	if c.bad > c.s.PlateauPatience {
		c.scale *= c.s.PlateauFactor
		c.bad = 0
	}
}

// ScheduleInfo is where a model's learning-rate schedule stands: the
// schedule (with its defaults filled), the learning rate it scales, its
// length in epochs and the epochs of it run, and PlateauLR's state. Train
// keeps it in Model.Info.Schedule after every epoch (so checkpoints hold
// it), for a schedule that changes the rate. A later Train call with the
// same Schedule and LR continues it while it is unfinished (Done <
// Epochs): its epoch Done+1 comes next, and a call that runs past its end
// stretches it to the call's last epoch. Otherwise the call starts a
// schedule of its own epochs.
type ScheduleInfo struct {
	Kind            string  `json:"kind"`
	Warmup          int     `json:"warmup,omitempty"`
	MinLR           float64 `json:"min_lr,omitempty"`
	StepEvery       int     `json:"step_every,omitempty"`
	StepGamma       float64 `json:"step_gamma,omitempty"`
	PlateauPatience int     `json:"plateau_patience,omitempty"`
	PlateauFactor   float64 `json:"plateau_factor,omitempty"`
	// LR is the learning rate the schedule scales (Config.LR).
	LR float64 `json:"lr"`
	// Epochs is the schedule's length and Done the epochs of it run.
	Epochs int `json:"epochs"`
	Done   int `json:"done"`
	// Scale is PlateauLR's factor reached (1 before any drop), Best the
	// lowest monitored loss (nil before the first judged epoch) and Bad
	// the epochs since it.
	Scale float64  `json:"scale,omitempty"`
	Best  *float64 `json:"best,omitempty"`
	Bad   int      `json:"bad,omitempty"`
}

// Schedule returns the schedule si describes; an error for an unknown kind.
func (si *ScheduleInfo) Schedule() (Schedule, error) {
	k, err := ParseSchedule(si.Kind)
	if err != nil {
		return Schedule{}, err
	}
	return Schedule{Kind: k, Warmup: si.Warmup, MinLR: si.MinLR, StepEvery: si.StepEvery, StepGamma: si.StepGamma,
		PlateauPatience: si.PlateauPatience, PlateauFactor: si.PlateauFactor}, nil
}

// Continues reports whether a Train call with schedule s (as Config.Schedule
// gives it) and learning rate lr continues si: si is unfinished and was made
// by the same schedule and rate.
func (si *ScheduleInfo) Continues(s Schedule, lr float64) bool {
	if si == nil || si.Done >= si.Epochs || si.LR != lr {
		return false
	}
	s, err := s.withDefaults()
	if err != nil || s.constant() {
		return false
	}
	t, err := si.Schedule()
	if err != nil {
		return false
	}
	t, err = t.withDefaults()
	return err == nil && t == s
}

// validate rejects a ScheduleInfo no run can have written.
func (si *ScheduleInfo) validate() error {
	s, err := si.Schedule()
	if err != nil {
		return err
	}
	if _, err := s.withDefaults(); err != nil {
		return err
	}
	switch {
	case si.Epochs < 1 || si.Done < 0 || si.Done > si.Epochs:
		return fmt.Errorf("schedule: %d of %d epochs done", si.Done, si.Epochs)
	case !(si.LR > 0) || math.IsInf(si.LR, 0):
		return fmt.Errorf("schedule: learning rate %v", si.LR)
	case !(si.Scale >= 0 && si.Scale <= 1) || si.Bad < 0:
		return fmt.Errorf("schedule: plateau scale %v, %d epochs since the best", si.Scale, si.Bad)
	case si.Best != nil && (math.IsNaN(*si.Best) || math.IsInf(*si.Best, 0)):
		return fmt.Errorf("schedule: best loss %v", *si.Best)
	}
	return nil
}

// resumeScheduler returns the scheduler of a Train call of epochs epochs
// with schedule s (defaults filled) and rate lr on a model whose schedule
// stands at si (nil: none): si continued when it Continues, else a new one.
func resumeScheduler(si *ScheduleInfo, s Schedule, lr float64, epochs int) *scheduler {
	c := newScheduler(s, lr, epochs)
	if !si.Continues(s, lr) {
		return c
	}
	c.offset, c.epochs = si.Done, max(si.Epochs, si.Done+epochs)
	if si.Scale > 0 {
		c.scale = si.Scale
	}
	if si.Best != nil {
		c.best = *si.Best
	}
	c.bad = si.Bad
	return c
}

// info is where c stands after the call's epochs done.
func (c *scheduler) info(done int) *ScheduleInfo {
	s := c.s
	si := &ScheduleInfo{Kind: s.Kind.String(), Warmup: s.Warmup, MinLR: s.MinLR, StepEvery: s.StepEvery, StepGamma: s.StepGamma,
		PlateauPatience: s.PlateauPatience, PlateauFactor: s.PlateauFactor, LR: c.base, Epochs: c.epochs, Done: c.offset + done,
		Scale: c.scale, Bad: c.bad}
	if !math.IsInf(c.best, 1) {
		b := c.best
		si.Best = &b
	}
	return si
}
