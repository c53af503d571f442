package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gputrain/gputrain/internal/jsonnum"

	"gonum.org/v1/gonum/stat"
)

// Num is a figure that may be missing (NaN): JSON null (see jsonnum).
type Num = jsonnum.Num

// Results are what a sweep (or one shard of it) found. Merge makes the
// results of a whole sweep from its shards' files; they equal those of a
// single run of the whole grid in everything but Runs.
type Results struct {
	// Fingerprint identifies the sweep: Plan and training data (see
	// Fingerprint).
	Fingerprint string `json:"fingerprint"`
	Plan        Plan   `json:"plan"`
	Data        Data   `json:"data"`
	// Shard is the slice of the trial list these results cover; nil for
	// the whole list.
	Shard *Shard `json:"shard,omitempty"`
	// TrialCount is the number of trials of the whole grid.
	TrialCount int `json:"trial_count"`
	// Trials holds one result per trial run, in trial order.
	Trials []TrialResult `json:"trials"`
	// Configs summarises the configurations of Trials, best first (see
	// Summarize).
	Configs []ConfigResult `json:"configs"`
	// Runs records the runs that made these results (one per shard).
	Runs []Run `json:"runs,omitempty"`
}

// Data describes the training data of a sweep.
type Data struct {
	Name    string `json:"name"`
	Rows    int    `json:"rows"`
	Classes int    `json:"classes"`
	// TrainRows and ValRows are each model's row counts.
	TrainRows int `json:"train_rows"`
	ValRows   int `json:"val_rows"`
}

// Run records one run of a sweep: which shard, on which device, how long.
type Run struct {
	Shard   string  `json:"shard"`
	Device  string  `json:"device,omitempty"`
	Seconds float64 `json:"seconds"`
}

// TrialResult is the outcome of one trial: a configuration with one seed,
// trained on every fold.
type TrialResult struct {
	Trial  int    `json:"trial"`
	Config int    `json:"config"`
	Params Config `json:"params"`
	Seed   uint64 `json:"seed"`
	// ValLoss and ValAccuracy are the means over the folds of each fold's
	// figures at its best epoch (NaN when a fold diverged).
	ValLoss     Num          `json:"val_loss"`
	ValAccuracy Num          `json:"val_accuracy"`
	Folds       []FoldResult `json:"folds"`
}

// FoldResult is one model of a trial: its history and where it was best.
type FoldResult struct {
	Fold int `json:"fold"`
	// Epochs is the number of epochs trained (fewer than Plan.Epochs when
	// it stopped early).
	Epochs       int  `json:"epochs"`
	BestEpoch    int  `json:"best_epoch"`
	StoppedEarly bool `json:"stopped_early"`
	// Loss, Accuracy, ValLoss and ValAccuracy are the best epoch's.
	Loss        Num `json:"loss"`
	Accuracy    Num `json:"accuracy"`
	ValLoss     Num `json:"val_loss"`
	ValAccuracy Num `json:"val_accuracy"`
	// Error says why the model failed (it diverged); empty otherwise.
	Error   string  `json:"error,omitempty"`
	History []Epoch `json:"history"`
}

// Diverged reports whether the model failed.
func (f FoldResult) Diverged() bool { return f.Error != "" }

// Epoch is one epoch of a model's history.
type Epoch struct {
	Epoch       int `json:"epoch"`
	Loss        Num `json:"loss"`
	Accuracy    Num `json:"accuracy"`
	ValLoss     Num `json:"val_loss"`
	ValAccuracy Num `json:"val_accuracy"`
}

// ConfigResult summarises the models of one configuration: every seed on
// every fold.
type ConfigResult struct {
	// Rank is the configuration's place by Plan.Metric, from 1.
	Rank   int    `json:"rank"`
	Config int    `json:"config"`
	Params Config `json:"params"`
	// Models counts the models and Diverged those that failed.
	Models   int `json:"models"`
	Diverged int `json:"diverged"`
	// ValLoss and ValAccuracy are the mean over the models that did not
	// diverge of their figures at their best epochs, and the Std fields
	// the sample standard deviations (NaN for fewer than two models).
	ValLoss        Num `json:"val_loss"`
	ValLossStd     Num `json:"val_loss_std"`
	ValAccuracy    Num `json:"val_accuracy"`
	ValAccuracyStd Num `json:"val_accuracy_std"`
	// BestEpoch is the mean best epoch of those models.
	BestEpoch Num `json:"best_epoch"`
}

// Metric returns c's figure for m.
func (c ConfigResult) Metric(m Metric) float64 {
	if m == Accuracy {
		return float64(c.ValAccuracy)
	}
	return float64(c.ValLoss)
}

// Summarize fills r.Configs from r.Trials: one entry per configuration
// that has trials, ranked by r.Plan.Metric (mean over the models that did
// not diverge). Configurations with a diverged model rank after those
// without; ties keep the configuration order.
func (r *Results) Summarize() {
	byConfig := map[int]*ConfigResult{}
	var order []int
	losses, accs, bests := map[int][]float64{}, map[int][]float64{}, map[int][]float64{}
	for _, t := range r.Trials {
		c := byConfig[t.Config]
		if c == nil {
			c = &ConfigResult{Config: t.Config, Params: t.Params}
			byConfig[t.Config] = c
			order = append(order, t.Config)
		}
		for _, f := range t.Folds {
			c.Models++
			if f.Diverged() {
				c.Diverged++
				continue
			}
			losses[t.Config] = append(losses[t.Config], float64(f.ValLoss))
			accs[t.Config] = append(accs[t.Config], float64(f.ValAccuracy))
			bests[t.Config] = append(bests[t.Config], float64(f.BestEpoch))
		}
	}
	r.Configs = r.Configs[:0]
	for _, ci := range order {
		c := byConfig[ci]
		c.ValLoss, c.ValLossStd = meanStd(losses[ci])
		c.ValAccuracy, c.ValAccuracyStd = meanStd(accs[ci])
		c.BestEpoch, _ = meanStd(bests[ci])
		r.Configs = append(r.Configs, *c)
	}
	m := r.Plan.Metric
	slices.SortStableFunc(r.Configs, func(a, b ConfigResult) int {
		switch {
		case (a.Diverged > 0) != (b.Diverged > 0):
			if a.Diverged > 0 {
				return 1
			}
			return -1
		case m.better(a.Metric(m), b.Metric(m)):
			return -1
		case m.better(b.Metric(m), a.Metric(m)):
			return 1
		}
		return a.Config - b.Config
	})
	for i := range r.Configs {
		r.Configs[i].Rank = i + 1
	}
}

// meanStd is the mean and sample standard deviation of xs: NaN for an
// empty xs, and a NaN deviation for one value. NaN values (a regression's
// accuracy) make both NaN.
func meanStd(xs []float64) (Num, Num) {
	switch len(xs) {
	case 0:
		return Num(math.NaN()), Num(math.NaN())
	case 1:
		return Num(xs[0]), Num(math.NaN())
	}
	m, s := stat.MeanStdDev(xs, nil)
	return Num(m), Num(s)
}

// Best returns the best configuration, or false when r has none.
func (r *Results) Best() (ConfigResult, bool) {
	if len(r.Configs) == 0 {
		return ConfigResult{}, false
	}
	return r.Configs[0], true
}

// WriteJSON writes r as indented JSON.
func (r *Results) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// File is one shard's results and the file they came from, for Merge.
type File struct {
	Name    string
	Results *Results
}

// ReadFile reads results that WriteJSON (or gputrain sweep --out) wrote to
// path. Other fields of a JSON object are ignored.
func ReadFile(path string) (File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("sweep: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return File{}, fmt.Errorf("sweep: %s: not sweep results: %w", path, err)
	}
	if r.Fingerprint == "" || r.TrialCount == 0 {
		return File{}, fmt.Errorf("sweep: %s: not sweep results: no fingerprint or trial_count field", path)
	}
	return File{Name: path, Results: &r}, nil
}

// Merge combines the results of a sweep's shards into the results of the
// whole sweep: the trials of every file in trial order, summarised anew,
// with every file's Runs. It equals a single run of the whole grid in
// everything but Runs. It returns an error naming the file when the files
// come from different sweeps (their fingerprints differ), when a trial
// appears in two files, or when trials are missing.
func Merge(files ...File) (*Results, error) {
	if len(files) == 0 {
		return nil, errors.New("sweep: merge: no files")
	}
	first := files[0]
	out := &Results{Fingerprint: first.Results.Fingerprint, Plan: first.Results.Plan, Data: first.Results.Data, TrialCount: first.Results.TrialCount}
	from := map[int]string{}
	for _, f := range files {
		r := f.Results
		if r.Fingerprint != out.Fingerprint || r.TrialCount != out.TrialCount {
			return nil, fmt.Errorf("sweep: merge: %s is another sweep than %s (fingerprint %s, %d trials; %s has %s, %d trials): merge the shards of one grid on one data set",
				f.Name, first.Name, r.Fingerprint, r.TrialCount, first.Name, out.Fingerprint, out.TrialCount)
		}
		for _, t := range r.Trials {
			if t.Trial < 0 || t.Trial >= out.TrialCount {
				return nil, fmt.Errorf("sweep: merge: %s holds trial %d, outside 0..%d", f.Name, t.Trial, out.TrialCount-1)
			}
			if prev, dup := from[t.Trial]; dup {
				return nil, fmt.Errorf("sweep: merge: trial %d is in %s and in %s: give each shard's file once", t.Trial, prev, f.Name)
			}
			from[t.Trial] = f.Name
			out.Trials = append(out.Trials, t)
		}
		out.Runs = append(out.Runs, r.Runs...)
	}
	if missing := missingTrials(from, out.TrialCount); missing != "" {
		return nil, fmt.Errorf("sweep: merge: trials %s of %d are in none of the %d files: a shard's file is missing", missing, out.TrialCount, len(files))
	}
	slices.SortFunc(out.Trials, func(a, b TrialResult) int { return a.Trial - b.Trial })
	out.Summarize()
	return out, nil
}

// missingTrials lists the trials of 0..n-1 not in have as ranges, e.g.
// "4-7, 9"; "" when none is missing.
func missingTrials(have map[int]string, n int) string {
	var parts []string
	for i := 0; i < n; i++ {
		if _, ok := have[i]; ok {
			continue
		}
		j := i
		for j+1 < n {
			if _, ok := have[j+1]; ok {
				break
			}
			j++
		}
		if j > i {
			parts = append(parts, strconv.Itoa(i)+"-"+strconv.Itoa(j))
		} else {
			parts = append(parts, strconv.Itoa(i))
		}
		i = j
	}
	return strings.Join(parts, ", ")
}
