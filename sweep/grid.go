package sweep

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/nn"
)

// Grid holds the list-valued hyperparameters of a sweep. Every combination
// of one value from each list is a configuration (Config), and every
// configuration is trained once per seed (a Trial).
type Grid struct {
	// Hidden lists the architectures: the hidden layer widths of each.
	Hidden [][]int
	// Activation lists the hidden activations.
	Activation []backend.Activation
	// Optimizer lists the update rules.
	Optimizer []nn.Optimizer
	// Batch lists the minibatch sizes; 0 is full batch.
	Batch []int
	// LR lists the learning rates.
	LR []float64
	// WeightDecay lists the weight decays (nn.Config.WeightDecay; 0 is
	// none); nil means {0}. Like the learning rate, it varies within a
	// model array.
	WeightDecay []float64
	// Schedule lists the learning-rate schedules (nn.Schedule.Kind; the
	// warm-up and the other constants are Plan.LRSchedule's); nil means
	// {nn.ConstantLR}. Each schedule trains in model arrays of its own.
	Schedule []nn.ScheduleKind
	// ClipNorm lists the gradient-clipping norms (nn.Config.ClipNorm; 0 is
	// none); nil means {0}. Each norm trains in model arrays of its own.
	ClipNorm []float64
	// Dropout lists the dropout probabilities (nn.Config.Dropout; 0 is
	// none); nil means {0}. Each probability trains in model arrays of its
	// own.
	Dropout []float64
	// Seeds lists the seeds: a trial's seed draws its initial weights and
	// shuffles its rows.
	Seeds []uint64
}

// Validate reports whether every list of g is non-empty, holds valid
// values and no value twice (a repeated value would repeat trials).
func (g Grid) Validate() error {
	if err := checkList("hidden", g.Hidden, func(h []int) error {
		if len(h) == 0 {
			return fmt.Errorf("an architecture with no hidden layer")
		}
		for _, w := range h {
			if w < 1 {
				return fmt.Errorf("width %d, want at least 1", w)
			}
		}
		return nil
	}, HiddenString); err != nil {
		return err
	}
	if err := checkList("activation", g.Activation, func(a backend.Activation) error {
		if !a.Valid() || a == backend.Identity {
			return fmt.Errorf("%v is not a hidden activation (want sigmoid, relu or tanh)", a)
		}
		return nil
	}, backend.Activation.String); err != nil {
		return err
	}
	if err := checkList("optimizer", g.Optimizer, func(o nn.Optimizer) error {
		if _, err := nn.ParseOptimizer(o.String()); err != nil {
			return err
		}
		return nil
	}, nn.Optimizer.String); err != nil {
		return err
	}
	if err := checkList("batch", g.Batch, func(b int) error {
		if b < 0 {
			return fmt.Errorf("batch %d, want 0 (full batch) or more", b)
		}
		return nil
	}, strconv.Itoa); err != nil {
		return err
	}
	if err := checkList("lr", g.LR, func(lr float64) error {
		if !(lr > 0) || math.IsInf(lr, 0) {
			return fmt.Errorf("learning rate %v, want a positive finite number", lr)
		}
		return nil
	}, formatFloat); err != nil {
		return err
	}
	if err := checkList("weight_decay", g.decays(), func(wd float64) error {
		if !(wd >= 0) || math.IsInf(wd, 0) {
			return fmt.Errorf("weight decay %v, want 0 (none) or a positive finite number", wd)
		}
		return nil
	}, formatFloat); err != nil {
		return err
	}
	if err := checkList("schedule", g.schedules(), func(k nn.ScheduleKind) error {
		_, err := nn.ParseSchedule(k.String())
		return err
	}, nn.ScheduleKind.String); err != nil {
		return err
	}
	if err := checkList("clip_norm", g.clips(), func(c float64) error {
		if !(c >= 0) || math.IsInf(c, 0) {
			return fmt.Errorf("clipping norm %v, want 0 (none) or a positive finite number", c)
		}
		return nil
	}, formatFloat); err != nil {
		return err
	}
	if err := checkList("dropout", g.drops(), func(p float64) error {
		if !(p >= 0 && p < 1) {
			return fmt.Errorf("dropout %v, want 0 (none) or a probability below 1", p)
		}
		return nil
	}, formatFloat); err != nil {
		return err
	}
	return checkList("seeds", g.Seeds, func(s uint64) error {
		if s == 0 {
			return fmt.Errorf("seed 0: seeds start at 1 (0 means \"the default\" to nn.MemberConfig)")
		}
		return nil
	}, func(s uint64) string { return strconv.FormatUint(s, 10) })
}

// checkList checks that list is non-empty, that check accepts every value
// and that no two values have the same name.
func checkList[T any](field string, list []T, check func(T) error, name func(T) string) error {
	if len(list) == 0 {
		return fmt.Errorf("sweep: grid field %s: no values", field)
	}
	seen := map[string]bool{}
	for _, v := range list {
		if err := check(v); err != nil {
			return fmt.Errorf("sweep: grid field %s: %w", field, err)
		}
		n := name(v)
		if seen[n] {
			return fmt.Errorf("sweep: grid field %s: %s given twice", field, n)
		}
		seen[n] = true
	}
	return nil
}

// decays is g.WeightDecay, {0} when it is nil.
func (g Grid) decays() []float64 {
	if g.WeightDecay == nil {
		return []float64{0}
	}
	return g.WeightDecay
}

// schedules is g.Schedule, {nn.ConstantLR} when it is nil.
func (g Grid) schedules() []nn.ScheduleKind {
	if g.Schedule == nil {
		return []nn.ScheduleKind{nn.ConstantLR}
	}
	return g.Schedule
}

// clips is g.ClipNorm, {0} when it is nil.
func (g Grid) clips() []float64 {
	if g.ClipNorm == nil {
		return []float64{0}
	}
	return g.ClipNorm
}

// drops is g.Dropout, {0} when it is nil.
func (g Grid) drops() []float64 {
	if g.Dropout == nil {
		return []float64{0}
	}
	return g.Dropout
}

// Size returns the number of trials of g: configurations times seeds.
func (g Grid) Size() int {
	return len(g.Hidden) * len(g.Activation) * len(g.Optimizer) * len(g.Batch) * len(g.schedules()) * len(g.clips()) * len(g.drops()) *
		len(g.LR) * len(g.decays()) * len(g.Seeds)
}

// Config is one configuration of a grid: one value of each list but the
// seeds.
type Config struct {
	Hidden     []int
	Activation backend.Activation
	Optimizer  nn.Optimizer
	Batch      int
	LR         float64
	// WeightDecay is the weight decay, 0 for none.
	WeightDecay float64
	// Schedule is the learning-rate schedule's kind (its constants are
	// Plan.LRSchedule's).
	Schedule nn.ScheduleKind
	// ClipNorm is the gradient-clipping norm, 0 for none.
	ClipNorm float64
	// Dropout is the dropout probability, 0 for none.
	Dropout float64
}

// String describes c, e.g. "hidden 128x64, sigmoid, adam, batch 32, lr
// 0.01", with ", weight decay 0.0001" when it has one.
func (c Config) String() string {
	s := fmt.Sprintf("hidden %s, %v, %v, batch %s, lr %s", HiddenString(c.Hidden), c.Activation, c.Optimizer, batchString(c.Batch), formatFloat(c.LR))
	if c.WeightDecay != 0 {
		s += ", weight decay " + formatFloat(c.WeightDecay)
	}
	if c.Schedule != nn.ConstantLR {
		s += ", " + c.Schedule.String() + " schedule"
	}
	if c.ClipNorm != 0 {
		s += ", clip norm " + formatFloat(c.ClipNorm)
	}
	if c.Dropout != 0 {
		s += ", dropout " + formatFloat(c.Dropout)
	}
	return s
}

// configJSON is Config as JSON: names instead of enum numbers.
type configJSON struct {
	Hidden      []int   `json:"hidden"`
	Activation  string  `json:"activation"`
	Optimizer   string  `json:"optimizer"`
	Batch       int     `json:"batch"`
	LR          float64 `json:"lr"`
	WeightDecay float64 `json:"weight_decay,omitempty"`
	Schedule    string  `json:"schedule,omitempty"`
	ClipNorm    float64 `json:"clip_norm,omitempty"`
	Dropout     float64 `json:"dropout,omitempty"`
}

// MarshalJSON writes c with its activation, optimizer and schedule by name
// (no schedule for a constant rate).
func (c Config) MarshalJSON() ([]byte, error) {
	j := configJSON{c.Hidden, c.Activation.String(), c.Optimizer.String(), c.Batch, c.LR, c.WeightDecay, "", c.ClipNorm, c.Dropout}
	if c.Schedule != nn.ConstantLR {
		j.Schedule = c.Schedule.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Config) UnmarshalJSON(b []byte) error {
	var j configJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	act, err := backend.ParseActivation(j.Activation)
	if err != nil {
		return fmt.Errorf("sweep: config field activation: %w", err)
	}
	opt, err := nn.ParseOptimizer(j.Optimizer)
	if err != nil {
		return fmt.Errorf("sweep: config field optimizer: %w", err)
	}
	sch := nn.ConstantLR
	if j.Schedule != "" {
		if sch, err = nn.ParseSchedule(j.Schedule); err != nil {
			return fmt.Errorf("sweep: config field schedule: %w", err)
		}
	}
	*c = Config{Hidden: j.Hidden, Activation: act, Optimizer: opt, Batch: j.Batch, LR: j.LR, WeightDecay: j.WeightDecay, Schedule: sch, ClipNorm: j.ClipNorm, Dropout: j.Dropout}
	return nil
}

// arrayKey is what the members of one model array share: everything but
// the learning rate and the weight decay (and the seed and fold, which are
// not in Config).
func (c Config) arrayKey() string {
	return fmt.Sprintf("%s/%v/%v/%d/%v/%s/%s", HiddenString(c.Hidden), c.Activation, c.Optimizer, c.Batch, c.Schedule, formatFloat(c.ClipNorm), formatFloat(c.Dropout))
}

// Configs returns the configurations of g in their fixed order: the
// architectures outermost, then activations, optimizers, batch sizes,
// schedules, clipping norms, dropouts, learning rates and weight decays, each list
// in the order given.
// Configurations that can share a model array (all but the learning rate
// and the weight decay equal) are neighbours.
func (g Grid) Configs() []Config {
	var out []Config
	for _, h := range g.Hidden {
		for _, a := range g.Activation {
			for _, o := range g.Optimizer {
				for _, b := range g.Batch {
					for _, sch := range g.schedules() {
						for _, clip := range g.clips() {
							for _, drop := range g.drops() {
								for _, lr := range g.LR {
									for _, wd := range g.decays() {
										out = append(out, Config{Hidden: slices.Clone(h), Activation: a, Optimizer: o, Batch: b, LR: lr, WeightDecay: wd,
											Schedule: sch, ClipNorm: clip, Dropout: drop})
									}
								}
							}
						}
					}
				}
			}
		}
	}
	return out
}

// Trial is one entry of a sweep's ordered trial list: a configuration
// trained with one seed (on every fold of a cross-validation).
type Trial struct {
	// Index is the trial's position in the list, from 0.
	Index int
	// Config is the index of its configuration in Grid.Configs.
	Config int
	// Seed is the seed of its initial weights and row order.
	Seed uint64
}

// Trials returns the ordered trial list of g: configuration by
// configuration (in Configs' order), each with every seed in the order
// given. The list is the same on every machine, which is what sharding
// (Shard) relies on.
func (g Grid) Trials() []Trial {
	var out []Trial
	for c := range len(g.Configs()) {
		for _, s := range g.Seeds {
			out = append(out, Trial{Index: len(out), Config: c, Seed: s})
		}
	}
	return out
}

// ParseHidden parses a list of architectures: commas separate the
// architectures and "x" the hidden layers of one, so "64,128,128x64" is
// three architectures, one hidden layer of 64, one of 128, and two of 128
// then 64.
func ParseHidden(s string) ([][]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("sweep: hidden: no architecture given (e.g. 64,128,128x64)")
	}
	var out [][]int
	for arch := range strings.SplitSeq(s, ",") {
		arch = strings.TrimSpace(arch)
		var widths []int
		for w := range strings.SplitSeq(strings.ToLower(arch), "x") {
			v, err := strconv.Atoi(strings.TrimSpace(w))
			if err != nil || v < 1 {
				return nil, fmt.Errorf("sweep: hidden: %q is not an architecture: want layer widths of at least 1 joined by x, e.g. 128x64", arch)
			}
			widths = append(widths, v)
		}
		out = append(out, widths)
	}
	return out, nil
}

// HiddenString formats one architecture as ParseHidden reads it, e.g.
// "128x64".
func HiddenString(h []int) string {
	parts := make([]string, len(h))
	for i, w := range h {
		parts[i] = strconv.Itoa(w)
	}
	return strings.Join(parts, "x")
}

// SeedList returns the seeds 1, 2, …, n.
func SeedList(n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func batchString(b int) string {
	if b == 0 {
		return "full"
	}
	return strconv.Itoa(b)
}
