package sweep

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/nn"
)

// Metric is the validation figure configurations are ranked by.
type Metric uint8

const (
	// Loss ranks by the mean validation loss at each model's best epoch,
	// lowest first.
	Loss Metric = iota
	// Accuracy ranks by the mean validation accuracy at each model's best
	// epoch, highest first (classifiers only).
	Accuracy
)

// String returns the metric's name, as ParseMetric reads it.
func (m Metric) String() string {
	if m == Accuracy {
		return "accuracy"
	}
	return "loss"
}

// ParseMetric returns the metric named s: "loss" or "accuracy".
func ParseMetric(s string) (Metric, error) {
	switch s {
	case "loss", "val_loss":
		return Loss, nil
	case "accuracy", "val_accuracy":
		return Accuracy, nil
	}
	return 0, fmt.Errorf("sweep: unknown metric %q (want loss or accuracy)", s)
}

// better reports whether metric value a ranks before b; NaN ranks last.
func (m Metric) better(a, b float64) bool {
	switch {
	case math.IsNaN(b):
		return !math.IsNaN(a)
	case math.IsNaN(a):
		return false
	case m == Accuracy:
		return a > b
	}
	return a < b
}

// Plan is a whole sweep: the grid and how every trial is trained and
// validated.
type Plan struct {
	Grid Grid
	// Epochs is the number of passes over each model's training rows.
	Epochs int
	// Folds, when at least 2, cross-validates every trial on Folds
	// stratified folds (KFold); 0 validates on one held-out part
	// (ValFraction) instead.
	Folds int
	// ValFraction is the share of the training rows held out for
	// validation when Folds is 0 (HoldOut).
	ValFraction float64
	// SplitSeed draws the folds or the held-out rows; every trial
	// validates on the same rows.
	SplitSeed uint64
	// Patience, if positive, stops each model on its own after Patience
	// epochs without a lower validation loss (nn.Config.Patience).
	Patience int
	// Metric ranks the configurations.
	Metric Metric
	// LRSchedule holds the constants of the grid's learning-rate schedules
	// (warm-up, MinLR, the step and plateau constants; its Kind is not
	// used: each configuration's is Config.Schedule).
	LRSchedule nn.Schedule
	// ClassWeights, if not nil, weighs each class's training rows (see
	// nn.Config.ClassWeights), for every model and the retrained one.
	ClassWeights []float64
}

// ConfigFor returns the training configuration of configuration c's
// models, but for the rows and seeds: its batch, rate, optimizer, weight
// decay, schedule, clipping, dropout and p's class weights, for epochs
// epochs.
func (p Plan) ConfigFor(c Config, epochs int) nn.Config {
	sch := p.LRSchedule
	sch.Kind = c.Schedule
	return nn.Config{Epochs: epochs, Batch: c.Batch, LR: c.LR, WeightDecay: c.WeightDecay, Optimizer: c.Optimizer,
		Schedule: sch, ClipNorm: c.ClipNorm, Dropout: c.Dropout, ClassWeights: p.ClassWeights}
}

// Validate checks p.
func (p Plan) Validate() error {
	if err := p.Grid.Validate(); err != nil {
		return err
	}
	switch {
	case p.Epochs < 1:
		return fmt.Errorf("sweep: %d epochs, want at least 1", p.Epochs)
	case p.Folds == 1 || p.Folds < 0:
		return fmt.Errorf("sweep: %d folds, want 0 (a held-out validation part) or at least 2", p.Folds)
	case p.Folds == 0 && !(p.ValFraction > 0 && p.ValFraction < 1):
		return fmt.Errorf("sweep: validation fraction %v, want a number between 0 and 1 (or Folds >= 2): a sweep ranks configurations on validation rows", p.ValFraction)
	case p.Folds >= 2 && p.ValFraction != 0:
		return fmt.Errorf("sweep: %d folds and a validation fraction of %v: give one", p.Folds, p.ValFraction)
	case p.Patience < 0:
		return fmt.Errorf("sweep: patience %d, want 0 (no early stopping) or more", p.Patience)
	case p.Metric > Accuracy:
		return fmt.Errorf("sweep: unknown metric %d", p.Metric)
	}
	return nil
}

// Splits returns the folds every trial of p trains and validates on: Folds
// of KFold, or the one of HoldOut.
func (p Plan) Splits(s *data.Set) ([]Fold, error) {
	if p.Folds >= 2 {
		return KFold(s, p.Folds, p.SplitSeed)
	}
	f, err := HoldOut(s, p.ValFraction, p.SplitSeed)
	if err != nil {
		return nil, err
	}
	return []Fold{f}, nil
}

// SpecFor returns the model of configuration c for set s: s.Cols inputs,
// and a BinaryHead for two classes, a SoftmaxHead for more, a
// RegressionHead with s.Outputs targets for a set without classes.
func SpecFor(c Config, s *data.Set) nn.Spec {
	spec := nn.Spec{Inputs: s.Cols, Hidden: append([]int(nil), c.Hidden...), Activation: c.Activation}
	switch {
	case s.Classes == 2:
		spec.Head, spec.Outputs = nn.BinaryHead, 1
	case s.Classes > 2:
		spec.Head, spec.Outputs = nn.SoftmaxHead, s.Classes
	default:
		spec.Head, spec.Outputs = nn.RegressionHead, max(s.Outputs, 1)
	}
	return spec
}

// planJSON is Plan as JSON.
type planJSON struct {
	Hidden      [][]int   `json:"hidden"`
	Activation  []string  `json:"activation"`
	Optimizer   []string  `json:"optimizer"`
	Batch       []int     `json:"batch"`
	LR          []float64 `json:"lr"`
	WeightDecay []float64 `json:"weight_decay,omitempty"`
	Schedule    []string  `json:"schedule,omitempty"`
	ClipNorm    []float64 `json:"clip_norm,omitempty"`
	Dropout     []float64 `json:"dropout,omitempty"`
	Seeds       []uint64  `json:"seeds"`
	Epochs      int       `json:"epochs"`
	Folds       int       `json:"folds"`
	ValFraction float64   `json:"val_fraction"`
	SplitSeed   uint64    `json:"split_seed"`
	Patience    int       `json:"patience"`
	Metric      string    `json:"metric"`
	// ScheduleParams are Plan.LRSchedule's constants, when a schedule is
	// swept.
	ScheduleParams *scheduleParamsJSON `json:"schedule_params,omitempty"`
	ClassWeights   []float64           `json:"class_weights,omitempty"`
}

type scheduleParamsJSON struct {
	Warmup          int     `json:"warmup,omitempty"`
	MinLR           float64 `json:"lr_min,omitempty"`
	StepEvery       int     `json:"step_every,omitempty"`
	StepGamma       float64 `json:"step_gamma,omitempty"`
	PlateauPatience int     `json:"plateau_patience,omitempty"`
	PlateauFactor   float64 `json:"plateau_factor,omitempty"`
}

// MarshalJSON writes p with names for activations, optimizers and the
// metric.
func (p Plan) MarshalJSON() ([]byte, error) {
	j := planJSON{Hidden: p.Grid.Hidden, Batch: p.Grid.Batch, LR: p.Grid.LR, WeightDecay: p.Grid.WeightDecay, Seeds: p.Grid.Seeds,
		Epochs: p.Epochs, Folds: p.Folds, ValFraction: p.ValFraction, SplitSeed: p.SplitSeed, Patience: p.Patience, Metric: p.Metric.String()}
	for _, a := range p.Grid.Activation {
		j.Activation = append(j.Activation, a.String())
	}
	for _, k := range p.Grid.Schedule {
		j.Schedule = append(j.Schedule, k.String())
	}
	j.ClipNorm, j.Dropout, j.ClassWeights = p.Grid.ClipNorm, p.Grid.Dropout, p.ClassWeights
	if s := p.LRSchedule; s != (nn.Schedule{Kind: s.Kind}) {
		j.ScheduleParams = &scheduleParamsJSON{s.Warmup, s.MinLR, s.StepEvery, s.StepGamma, s.PlateauPatience, s.PlateauFactor}
	}
	for _, o := range p.Grid.Optimizer {
		j.Optimizer = append(j.Optimizer, o.String())
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Plan) UnmarshalJSON(b []byte) error {
	var j planJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	q := Plan{Grid: Grid{Hidden: j.Hidden, Batch: j.Batch, LR: j.LR, WeightDecay: j.WeightDecay, ClipNorm: j.ClipNorm, Dropout: j.Dropout, Seeds: j.Seeds},
		Epochs: j.Epochs, Folds: j.Folds, ValFraction: j.ValFraction, SplitSeed: j.SplitSeed, Patience: j.Patience, ClassWeights: j.ClassWeights}
	for _, s := range j.Schedule {
		k, err := nn.ParseSchedule(s)
		if err != nil {
			return fmt.Errorf("sweep: plan field schedule: %w", err)
		}
		q.Grid.Schedule = append(q.Grid.Schedule, k)
	}
	if sp := j.ScheduleParams; sp != nil {
		q.LRSchedule = nn.Schedule{Warmup: sp.Warmup, MinLR: sp.MinLR, StepEvery: sp.StepEvery, StepGamma: sp.StepGamma,
			PlateauPatience: sp.PlateauPatience, PlateauFactor: sp.PlateauFactor}
	}
	for _, s := range j.Activation {
		a, err := backend.ParseActivation(s)
		if err != nil {
			return fmt.Errorf("sweep: plan field activation: %w", err)
		}
		q.Grid.Activation = append(q.Grid.Activation, a)
	}
	for _, s := range j.Optimizer {
		o, err := nn.ParseOptimizer(s)
		if err != nil {
			return fmt.Errorf("sweep: plan field optimizer: %w", err)
		}
		q.Grid.Optimizer = append(q.Grid.Optimizer, o)
	}
	var err error
	if q.Metric, err = ParseMetric(j.Metric); err != nil {
		return fmt.Errorf("sweep: plan field metric: %w", err)
	}
	*p = q
	return nil
}

// Fingerprint identifies the sweep p runs on s: a SHA-256 of p (as JSON)
// and of s's rows, features and labels. Shards of one sweep share it, and
// Merge refuses files whose fingerprints differ.
func Fingerprint(p Plan, s *data.Set) (string, error) {
	pj, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("sweep: fingerprint: %w", err)
	}
	h := sha256.New()
	h.Write(pj)
	var buf [8]byte
	word := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	for _, v := range []int{s.Rows, s.Cols, s.Outputs, s.Classes, s.PixelMax} {
		word(uint64(v))
	}
	h.Write(s.Pixels)
	for _, v := range s.Features {
		word(math.Float64bits(v))
	}
	for _, v := range s.Labels {
		word(math.Float64bits(v))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
