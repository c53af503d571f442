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
	epochs int     // the call's epochs
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
	if c.s.Kind != PlateauLR || t < c.s.Warmup || math.IsNaN(loss) {
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
