package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gputrain/gputrain/internal/jsonnum"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/gpu"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/sweep"
	"github.com/gputrain/gputrain/table"
)

func init() {
	register(&command{name: "sweep", summary: "train a grid of configurations × seeds × folds as model arrays; 'sweep merge' joins shards", run: runSweep})
}

const sweepSynopsis = `[flags]
       gputrain sweep merge [--json] [--out FILE] [--plot FILE] FILES...

Trains every configuration of a grid of hyperparameters, each with every
seed, and ranks the configurations by their validation figures. Every
list-valued flag takes comma-separated values; --hidden separates
architectures by commas and the layers of one by x: --hidden 64,128,128x64
is three architectures (one layer of 64, one of 128, two of 128 then 64).

Validation: --folds K cross-validates every configuration and seed on K
stratified folds of the training rows (every fold validates on n/K rows
rounded down; the n mod K rows left over, drawn at random, always train);
without --folds, --val FRACTION (default 0.2) holds out one stratified part.
Every model validates on the same rows as the others (--fold-seed draws
them). A model's figure is its validation loss (and accuracy) at its best
epoch, the lowest validation loss; a configuration's is the mean ± sample
standard deviation over its seeds and folds. --early-stop N stops each
model on its own. Test figures are reported for the best configuration
only: it is retrained on every training row (for its mean best epoch with
--early-stop, else --epochs) with the first seed, tested, and written by
--save-best as a normal checkpoint for eval and predict.

Models of the same architecture, activation, optimizer and batch size
train together as one model array (learning rates, seeds and folds vary
inside it), split into chunks that fit the device's memory; a sweep with a
configuration of which not one model fits is refused before any training.

Shards: --shard I/N runs slice I (from 0) of N of the ordered trial list,
with no retraining or test; without --shard the slice comes from a Slurm
array task (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) or a Kubernetes
Indexed Job (JOB_COMPLETION_INDEX with --shards N). Each shard writes its
results with --out FILE (atomically; or prints them with --json), and
'gputrain sweep merge FILES...' prints the table (and --json) that one run
of the whole grid prints. See docs/sweep.md.

Data: the same flags as train (--data, --digits, or --csv FILE --target
COLUMN and the table flags). A table's defaults differ as train's do:
--hidden 64x32 --activation relu --batch 16 --lr 0.001 and more epochs.`

type sweepFlags struct {
	device, data, digits                     string
	hidden, activation, optimizer, lr, batch string
	weightDecay                              string
	seed, metric, shard, out, plot, saveBest string
	maxMemory                                string
	seeds, folds, epochs, earlyStop, shards  int
	val                                      float64
	foldSeed                                 uint64
	json, verify                             bool
	// sch holds --schedule (a list here), its companions and
	// --class-weight, declared as train declares them.
	sch      trainFlags
	clipNorm string
	dropout  string
}

// sweepTableDefaults are train's table defaults (tableDefaults) in the
// sweep's syntax.
var sweepTableDefaults = map[string]string{
	"lr":         tableDefaults["lr"],
	"hidden":     strings.ReplaceAll(tableDefaults["hidden"], ",", "x"),
	"activation": tableDefaults["activation"],
	"batch":      tableDefaults["batch"],
}

func newSweepFlags(e *env) (*flag.FlagSet, *sweepFlags, *tableFlags) {
	f := &sweepFlags{}
	fs := newFlags(e, "sweep", sweepSynopsis)
	fs.StringVar(&f.device, "device", "auto", deviceHelp)
	fs.StringVar(&f.data, "data", "digits", dataHelp)
	fs.StringVar(&f.digits, "digits", "", "keep only these classes, e.g. 0,1 (two classes = the binary task)")
	fs.StringVar(&f.hidden, "hidden", "128x64", "`ARCHS`: architectures separated by commas, layers of one by x, e.g. 64,128,128x64")
	fs.StringVar(&f.activation, "activation", "sigmoid", "hidden activations: `LIST` of sigmoid, relu, tanh")
	fs.StringVar(&f.optimizer, "optimizer", "adam", "optimizers: `LIST` of sgd, momentum, adam, adamw")
	fs.StringVar(&f.lr, "lr", "0.01", "learning rates, e.g. 0.001,0.003,0.01")
	fs.StringVar(&f.weightDecay, "weight-decay", "0", "weight decays, e.g. 0,1e-4,1e-3 (each varies within a model array, as --lr does): an L2 term for sgd, momentum and adam, the decoupled decay for adamw (0 means none there too: give e.g. 0.01, PyTorch's AdamW default), biases not decayed")
	fs.StringVar(&f.batch, "batch", "32", "minibatch sizes, e.g. 16,32; 0 is full batch")
	fs.IntVar(&f.seeds, "seeds", 0, "train every configuration with the seeds 1..`N` (default 1; or --seed)")
	fs.StringVar(&f.seed, "seed", "", "train every configuration with each of these seeds, e.g. 1,2,3 (or --seeds N)")
	fs.IntVar(&f.epochs, "epochs", 20, "passes over each model's training rows")
	fs.IntVar(&f.folds, "folds", 0, "cross-validate on `K` stratified folds of the training rows (K >= 2); 0: hold out --val instead")
	fs.Float64Var(&f.val, "val", 0, "without --folds: validate on this `FRACTION` of the training rows, stratified (default 0.2)")
	fs.Uint64Var(&f.foldSeed, "fold-seed", 1, "seed of the folds or the --val rows (the same for every model)")
	fs.IntVar(&f.earlyStop, "early-stop", 0, "stop each model after `N` epochs without a lower validation loss (its best epoch's weights are its result); 0 = off")
	fs.StringVar(&f.metric, "metric", "loss", "rank configurations by the validation loss (lowest first) or accuracy (highest first)")
	fs.StringVar(&f.shard, "shard", "", "run slice `I/N` of the ordered trial list only (from 0), e.g. 0/4")
	fs.IntVar(&f.shards, "shards", 0, "with a Kubernetes Indexed Job: the `N` shards (the Job's completions); the shard is JOB_COMPLETION_INDEX")
	fs.StringVar(&f.out, "out", "", "write the results JSON (every model's history) to `FILE`, atomically: a shard's file for 'sweep merge'")
	fs.BoolVar(&f.json, "json", false, "print the results JSON (every model's history) on stdout instead of the table")
	fs.StringVar(&f.plot, "plot", "", "write a PNG to `FILE`: every model's validation loss per epoch (the best configuration highlighted) and the metric against a hyperparameter")
	fs.StringVar(&f.saveBest, "save-best", "", "retrain the best configuration on every training row and write it as a checkpoint (safetensors) to `FILE`, atomically")
	fs.StringVar(&f.maxMemory, "max-memory", "", "the most device memory one model array may use, e.g. 2GiB or 500MB (default: only the device's tensor limit)")
	fs.BoolVar(&f.verify, "verify", true, verifyHelp)
	addScheduleFlags(fs, &f.sch)
	fs.Lookup("schedule").Usage = "learning-rate schedules, per epoch: `LIST` of constant, cosine, step, plateau (as train's --schedule, with its --warmup, --lr-min, --step-* and --plateau-* for every model); each trains in model arrays of its own"
	fs.StringVar(&f.clipNorm, "clip-norm", "0", "gradient-clipping norms, e.g. 0,1 (as train's --clip-norm; 0 = off); each trains in model arrays of its own")
	fs.StringVar(&f.dropout, "dropout", "0", "dropout probabilities of the hidden layers, e.g. 0,0.2 (as train's --dropout; 0 = off); each trains in model arrays of its own")
	fs.StringVar(&f.sch.classWeight, "class-weight", "", "weigh each class's rows in the loss for every model: balanced or CLASS:WEIGHT pairs, as train's --class-weight (from the training rows). Classifiers only")
	return fs, f, addTableFlags(fs)
}

// sweepPlan is sweep's command line, checked.
type sweepPlan struct {
	f        *sweepFlags
	tf       *tableFlags
	fs       *flag.FlagSet
	explicit map[string]bool
	digits   []int
	grid     sweep.Grid
	lrSched  nn.Schedule
	classWt  *classWeightFlag
	metric   sweep.Metric
	shard    sweep.Shard
	maxBytes uint64
	out      output
	plotOut  output
	bestOut  output
}

func parseSweep(e *env, args []string) (*sweepPlan, error) {
	fs, f, tf := newSweepFlags(e)
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	p := &sweepPlan{f: f, tf: tf, fs: fs, explicit: setFlags(fs)}
	if tf.csv != "" {
		if err := setUnset(fs, sweepTableDefaults); err != nil {
			return nil, fmt.Errorf("table default %w", err)
		}
	}
	var err error
	if p.grid, err = f.grid(p.explicit); err != nil {
		return nil, err
	}
	if p.grid.Schedule, p.lrSched, err = f.schedules(p.explicit, p.grid.LR); err != nil {
		return nil, err
	}
	if p.grid.ClipNorm, err = parseFloats("clip-norm", f.clipNorm); err != nil {
		return nil, err
	}
	if p.grid.Dropout, err = parseFloats("dropout", f.dropout); err != nil {
		return nil, err
	}
	if err := p.grid.Validate(); err != nil {
		return nil, usagef("%s", flagNames(err))
	}
	if p.classWt, err = parseClassWeight(f.sch.classWeight); err != nil {
		return nil, err
	}
	if p.digits, err = parseInts("digits", f.digits, 0); err != nil {
		return nil, err
	}
	if err := f.checkNumbers(p.explicit); err != nil {
		return nil, err
	}
	if p.metric, err = sweep.ParseMetric(f.metric); err != nil {
		return nil, usagef("--metric %q: want loss or accuracy", f.metric)
	}
	if p.maxBytes, err = parseBytes(f.maxMemory); err != nil {
		return nil, err
	}
	if err := checkDevice(f.device); err != nil {
		return nil, err
	}
	if err := p.pickShard(os.Getenv); err != nil {
		return nil, err
	}
	p.out = output{flag: "out", path: f.out, what: "the results"}
	p.plotOut = output{flag: "plot", path: f.plot, what: "the plot"}
	p.bestOut = output{flag: "save-best", path: f.saveBest, what: "the checkpoint"}
	inputs := []output{{flag: "csv", path: tf.csv, what: "the table"}, {flag: "test-csv", path: tf.testCSV, what: "the test table"}}
	if err := checkOutputs(inputs, p.out, p.plotOut, p.bestOut); err != nil {
		return nil, err
	}
	return p, nil
}

// grid parses the list-valued flags.
func (f *sweepFlags) grid(explicit map[string]bool) (sweep.Grid, error) {
	var g sweep.Grid
	var err error
	if g.Hidden, err = sweep.ParseHidden(f.hidden); err != nil {
		return g, usagef("--hidden %q: want architectures separated by commas, the layers of one by x, e.g. 64,128,128x64", f.hidden)
	}
	for _, s := range strings.Split(f.activation, ",") {
		a, err := backend.ParseActivation(strings.TrimSpace(s))
		if err != nil || a == backend.Identity {
			return g, usagef("--activation %q: want sigmoid, relu or tanh", s)
		}
		g.Activation = append(g.Activation, a)
	}
	for _, s := range strings.Split(f.optimizer, ",") {
		o, err := nn.ParseOptimizer(strings.TrimSpace(s))
		if err != nil {
			return g, usagef("--optimizer: %v", err)
		}
		g.Optimizer = append(g.Optimizer, o)
	}
	if g.LR, err = parseFloats("lr", f.lr); err != nil {
		return g, err
	}
	for _, lr := range g.LR {
		if err := checkLR(lr); err != nil {
			return g, err
		}
	}
	if g.WeightDecay, err = parseFloats("weight-decay", f.weightDecay); err != nil {
		return g, err
	}
	for _, wd := range g.WeightDecay {
		if err := checkWeightDecay(wd); err != nil {
			return g, err
		}
	}
	if g.Batch, err = parseInts("batch", f.batch, 0); err != nil {
		return g, err
	}
	if len(g.Batch) == 0 {
		return g, usagef("--batch: no value")
	}
	switch {
	case explicit["seed"] && explicit["seeds"]:
		return g, usagef("--seed and --seeds both name the seeds: give one (--seeds 3 is --seed 1,2,3)")
	case explicit["seed"]:
		seeds, err := parseInts("seed", f.seed, 1)
		if err != nil {
			return g, err
		}
		for _, s := range seeds {
			g.Seeds = append(g.Seeds, uint64(s))
		}
	case f.seeds < 0 || explicit["seeds"] && f.seeds == 0:
		return g, usagef("--seeds %d must be at least 1", f.seeds)
	default:
		g.Seeds = sweep.SeedList(max(f.seeds, 1))
	}
	if err := g.Validate(); err != nil {
		return g, usagef("%s", flagNames(err))
	}
	return g, nil
}

// flagNames turns the grid's field names in err into the flags that set
// them: "grid field lr:" becomes "--lr:".
func flagNames(err error) string {
	msg := strings.TrimPrefix(err.Error(), "sweep: ")
	if rest, ok := strings.CutPrefix(msg, "grid field "); ok {
		name, tail, _ := strings.Cut(rest, ":")
		if name == "seeds" {
			name = "seed"
		}
		return "--" + strings.ReplaceAll(name, "_", "-") + ":" + tail
	}
	return msg
}

func (f *sweepFlags) checkNumbers(explicit map[string]bool) error {
	switch {
	case f.epochs < 1:
		return usagef("--epochs %d must be at least 1", f.epochs)
	case f.folds < 0 || f.folds == 1:
		return usagef("--folds %d: want at least 2 folds (or leave it out to validate on --val)", f.folds)
	case f.folds >= 2 && explicit["val"]:
		return usagef("--folds and --val are two ways to validate: give one")
	case math.IsNaN(f.val) || f.val < 0 || f.val >= 1:
		return usagef("--val %v must be a fraction in (0, 1), e.g. 0.2", f.val)
	case explicit["val"] && f.val == 0:
		return usagef("--val 0: a sweep ranks configurations on validation rows; give a fraction such as 0.2, or --folds K")
	case f.earlyStop < 0:
		return usagef("--early-stop %d must be 0 (off) or a number of epochs", f.earlyStop)
	}
	if f.folds == 0 && f.val == 0 {
		f.val = 0.2
	}
	return nil
}

// pickShard sets the shard from --shard, or else from a job array's
// environment (read by getenv).
func (p *sweepPlan) pickShard(getenv func(string) string) error {
	f := p.f
	if f.shard != "" {
		if p.explicit["shards"] {
			return usagef("--shard and --shards: give --shard I/N alone, or --shards N in a Kubernetes Indexed Job")
		}
		s, err := sweep.ParseShard(f.shard)
		if err != nil {
			return usagef("--shard %q: want I/N with 0 <= I < N, e.g. 0/4", f.shard)
		}
		p.shard = s
	} else {
		if f.shards < 0 {
			return usagef("--shards %d must be positive", f.shards)
		}
		s, _, err := sweep.ShardFromEnv(getenv, f.shards)
		if err != nil {
			return usagef("%s", strings.TrimPrefix(err.Error(), "sweep: "))
		}
		p.shard = s
	}
	if !p.shard.Whole() && f.saveBest != "" {
		return usagef("--save-best with shard %v: a shard sees a slice of the grid; merge the shards' --out files with 'gputrain sweep merge', then retrain the best with 'gputrain train'", p.shard)
	}
	return nil
}

// parseBytes parses a size such as 2GiB, 500MB or 1048576; "" is 0.
func parseBytes(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   float64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"TIB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	upper := strings.ToUpper(s)
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(upper, u.suffix) {
			upper, mult = strings.TrimSpace(strings.TrimSuffix(upper, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(upper, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, usagef("--max-memory %q: want a size such as 2GiB, 500MB or a number of bytes", s)
	}
	return uint64(v * mult), nil
}

// plan is the sweep.Plan of the command line, after the data set the
// table's default epochs.
func (p *sweepPlan) plan() sweep.Plan {
	return sweep.Plan{Grid: p.grid, Epochs: p.f.epochs, Folds: p.f.folds, ValFraction: p.f.val,
		SplitSeed: p.f.foldSeed, Patience: p.f.earlyStop, Metric: p.metric, LRSchedule: p.lrSched}
}

// schedules parses --schedule's list and checks its companions as train
// does: each must apply to one of the listed schedules, and --lr-min must
// be below every learning rate. It returns the kinds and the constants.
func (f *sweepFlags) schedules(explicit map[string]bool, lrs []float64) ([]nn.ScheduleKind, nn.Schedule, error) {
	var kinds []nn.ScheduleKind
	listed := map[nn.ScheduleKind]bool{}
	for _, name := range strings.Split(f.sch.schedule, ",") {
		k, err := nn.ParseSchedule(strings.TrimSpace(name))
		if err != nil {
			return nil, nn.Schedule{}, usagef("--schedule: %v", err)
		}
		kinds = append(kinds, k)
		listed[k] = true
	}
	applies := map[string][]nn.ScheduleKind{"step-every": {nn.StepLR}, "step-gamma": {nn.StepLR}, "plateau-patience": {nn.PlateauLR},
		"plateau-factor": {nn.PlateauLR}, "lr-min": {nn.CosineLR, nn.PlateauLR}}
	for _, name := range scheduleFlags {
		ks, ok := applies[name]
		if !ok || !explicit[name] || slices.ContainsFunc(ks, func(k nn.ScheduleKind) bool { return listed[k] }) {
			continue
		}
		return nil, nn.Schedule{}, usagef("--%s applies to --schedule %v, which --schedule %s does not list", name, ks[0], f.sch.schedule)
	}
	t := f.sch
	t.schedule, t.lr = "constant", slices.Min(lrs)
	s, err := t.scheduleOf(map[string]bool{}) // the numbers' checks
	if err != nil {
		return nil, nn.Schedule{}, err
	}
	s.Kind = 0
	if len(kinds) == 1 && kinds[0] == nn.ConstantLR && !explicit["warmup"] {
		return nil, nn.Schedule{}, nil // the plan without a schedule
	}
	return kinds, s, nil
}

// sweepDoc is the JSON sweep prints (--json) and writes (--out): the
// results and, for a whole sweep, the best configuration's test figures.
type sweepDoc struct {
	*sweep.Results
	Best *bestDoc `json:"best,omitempty"`
}

// bestDoc is the best configuration retrained on every training row and
// tested.
type bestDoc struct {
	Config       int          `json:"config"`
	Params       sweep.Config `json:"params"`
	Seed         uint64       `json:"seed"`
	Epochs       int          `json:"epochs"`
	TestLoss     float64      `json:"test_loss"`
	TestAccuracy *float64     `json:"test_accuracy,omitempty"`
	TestRMSE     *float64     `json:"test_rmse,omitempty"`
	TestMAE      *float64     `json:"test_mae,omitempty"`
	TestR2       *float64     `json:"test_r2,omitempty"`
	TestRows     int          `json:"test_rows"`
	Checkpoint   string       `json:"checkpoint,omitempty"`
	Seconds      float64      `json:"seconds"`
}

func runSweep(e *env, args []string) error {
	if len(args) > 0 && args[0] == "merge" {
		return runSweepMerge(e, args[1:])
	}
	p, err := parseSweep(e, args)
	if err != nil {
		return err
	}
	split, table, err := loadTrainData(e, p.fs, p.tf, p.f.data, p.digits, "", 0, p.f.foldSeed)
	if err != nil {
		return err
	}
	if p.metric == sweep.Accuracy && split.Train.Classes == 0 {
		return usagef("--metric accuracy: %s is a regression, which has no accuracy; rank by loss", split.Train.Name)
	}
	plan := p.plan() // after loadTrainData set a table's --epochs
	if plan.ClassWeights, err = p.classWt.weights(split.Train, sweep.SpecFor(plan.Grid.Configs()[0], split.Train)); err != nil {
		return err
	}
	var scaling nn.Scaling
	if table != nil {
		if scaling, err = nn.FitTableScaling(split.Train, sweep.SpecFor(plan.Grid.Configs()[0], split.Train), table); err != nil {
			return err
		}
	}
	b, why, err := openDevice(p.f.device, false)
	if err != nil {
		return err
	}
	defer b.Close()
	announce(e, b, why, false)
	if err := verifyDevice(e, b, p.f.verify); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "data:   %s\n", describeData(split))
	sw, err := sweep.New(plan, split.Train, p.shard, deviceLimits(b, p.maxBytes))
	if err != nil {
		return fmt.Errorf("%w (before any training)", err)
	}
	describeSweep(e, sw)
	bar := newSweepBar(e, p.f.json, sw)
	res, err := sw.Run(e.ctx, b, scaling, b.Info().String(), sweep.Hooks{Chunk: bar.chunk, Epoch: bar.epoch})
	bar.finish()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(e.stderr, "interrupted: no results written")
			return &exitError{code: 130}
		}
		return err
	}
	doc := sweepDoc{Results: res}
	if p.shard.Whole() {
		if doc.Best, err = p.retrainBest(e, b, res, split, table, scaling); err != nil {
			if errors.Is(err, context.Canceled) {
				fmt.Fprintln(e.stderr, "interrupted while retraining the best configuration")
				return &exitError{code: 130}
			}
			return err
		}
	}
	return p.report(e, doc, split.Train.Classes > 0)
}

// deviceLimits are b's memory limits for sweep.Schedule: a GPU's largest
// tensor, --max-memory, and the size of b's floats.
func deviceLimits(b backend.Backend, maxBytes uint64) sweep.Limits {
	lim := sweep.Limits{MaxBytes: maxBytes, FloatBytes: 4}
	if b.Info().Precision == "float64" {
		lim.FloatBytes = 8
	}
	if g, ok := b.(*gpu.Backend); ok {
		lim.MaxTensorBytes = g.MaxTensorBytes()
	}
	return lim
}

// describeSweep prints what the sweep trains.
func describeSweep(e *env, sw *sweep.Sweep) {
	p := sw.Plan
	valid := fmt.Sprintf("%d stratified folds (%d rows validate, %d train each)", p.Folds, len(sw.Folds[0].Val), len(sw.Folds[0].Train))
	if p.Folds == 0 {
		valid = fmt.Sprintf("%d held-out rows (--val %g; %d train)", len(sw.Folds[0].Val), p.ValFraction, len(sw.Folds[0].Train))
	}
	configs := len(p.Grid.Configs())
	fmt.Fprintf(e.stderr, "sweep:  %d configurations × %d seeds = %d trials, validated on %s, %d epochs%s\n",
		configs, len(p.Grid.Seeds), p.Grid.Size(), valid, p.Epochs, patienceNote(p.Patience))
	shard := ""
	if !sw.Shard.Whole() {
		lo, hi := sw.Shard.Range(p.Grid.Size())
		shard = fmt.Sprintf("shard %v: trials %d..%d, ", sw.Shard, lo, hi-1)
		if lo == hi {
			shard = fmt.Sprintf("shard %v: no trials (more shards than trials), ", sw.Shard)
		}
	}
	fmt.Fprintf(e.stderr, "        %s%d models in %d model arrays\n", shard, sw.Models(), len(sw.Chunks))
}

func patienceNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", early stopping after %d epochs without a better validation loss", n)
}

// retrainBest trains the best configuration on every training row, tests
// it and writes --save-best.
func (p *sweepPlan) retrainBest(e *env, b backend.Backend, res *sweep.Results, split *data.Split, table *table.Encoder, scaling nn.Scaling) (*bestDoc, error) {
	best, ok := res.Best()
	if !ok {
		return nil, nil
	}
	start := time.Now()
	epochs := res.Plan.RetrainEpochs(best)
	if !p.f.json {
		fmt.Fprintf(e.stderr, "best:   %v; retraining it on all %d training rows for %d epochs (seed %d)\n", best.Params, split.Train.Rows, epochs, res.Plan.Grid.Seeds[0])
	}
	m, _, err := sweep.Retrain(e.ctx, b, split.Train, scaling, res.Plan, best.Params, epochs, nn.Hooks{})
	if err != nil {
		return nil, flagDivergence(err)
	}
	defer m.Free()
	m.Info.Subset = p.digits
	m.Table = table
	doc := &bestDoc{Config: best.Config, Params: best.Params, Seed: res.Plan.Grid.Seeds[0], Epochs: epochs}
	ev, err := evaluate(m, split.Test, evalBatch(best.Params.Batch))
	if err != nil {
		return nil, err
	}
	rm := ev.Regression
	doc.TestLoss, doc.TestRows = ev.Loss, ev.Rows
	doc.TestAccuracy = jsonnum.Ptr(ev.Accuracy)
	if rm != nil {
		doc.TestRMSE, doc.TestMAE, doc.TestR2 = &rm.RMSE, &rm.MAE, jsonnum.Ptr(rm.R2)
	}
	if p.f.saveBest != "" {
		ck, err := m.Checkpoint()
		if err != nil {
			return nil, fmt.Errorf("--save-best: %w", err)
		}
		path, err := writeOutput(p.bestOut, writeBytes(ck))
		if path == "" {
			return nil, err
		}
		doc.Checkpoint = path
		if err != nil {
			fmt.Fprintf(e.stderr, "warning: %v\n", err)
		}
	}
	doc.Seconds = time.Since(start).Seconds()
	return doc, nil
}

// report writes --out and --plot and prints the table (or --json).
func (p *sweepPlan) report(e *env, doc sweepDoc, classes bool) error {
	var rescued []error
	outPath, plotPath := "", ""
	if p.out.path != "" {
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		outPath, err = writeOutput(p.out, writeBytes(append(b, '\n')))
		if outPath == "" {
			return err
		}
		if err != nil {
			rescued = append(rescued, err)
		}
	}
	if p.plotOut.path != "" {
		var err error
		plotPath, err = writeOutput(p.plotOut, func(path string) error { return plotSweep(path, doc.Results) })
		if plotPath == "" {
			return err
		}
		if err != nil {
			rescued = append(rescued, err)
		}
	}
	if p.f.json {
		if err := writeJSON(e.stdout, doc); err != nil {
			return err
		}
		return errors.Join(rescued...)
	}
	printSweepTable(e.stdout, doc.Results, classes)
	if d := doc.Best; d != nil {
		fmt.Fprintf(e.stdout, "\nbest: %v, retrained on all training rows for %d epochs (seed %d)\n", d.Params, d.Epochs, d.Seed)
		acc := ""
		if d.TestAccuracy != nil {
			acc = fmt.Sprintf(", accuracy %.2f%%", 100**d.TestAccuracy)
		}
		if d.TestRMSE != nil {
			acc = fmt.Sprintf(" (standardised), RMSE %.6g, MAE %.6g", *d.TestRMSE, *d.TestMAE)
		}
		fmt.Fprintf(e.stdout, "test: loss %.4f%s on %d rows (best configuration only)\n", d.TestLoss, acc, d.TestRows)
		if d.Checkpoint != "" {
			fmt.Fprintf(e.stdout, "model saved to %s\n", d.Checkpoint)
		}
	} else if doc.Results.Shard != nil {
		fmt.Fprintf(e.stdout, "\nshard %v: merge the shards' --out files with 'gputrain sweep merge FILES...'\n", *doc.Results.Shard)
	}
	if outPath != "" {
		fmt.Fprintf(e.stdout, "results written to %s\n", outPath)
	}
	if plotPath != "" {
		fmt.Fprintf(e.stdout, "plot written to %s\n", plotPath)
	}
	return errors.Join(rescued...)
}

// printSweepTable prints one row per configuration, best first: the
// configuration, its models and its validation figures (mean ± standard
// deviation over seeds and folds). classes adds the accuracy.
func printSweepTable(w io.Writer, r *sweep.Results, classes bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	decays := slices.ContainsFunc(r.Configs, func(c sweep.ConfigResult) bool { return c.Params.WeightDecay != 0 })
	scheds := slices.ContainsFunc(r.Configs, func(c sweep.ConfigResult) bool { return c.Params.Schedule != nn.ConstantLR })
	clips := slices.ContainsFunc(r.Configs, func(c sweep.ConfigResult) bool { return c.Params.ClipNorm != 0 })
	drops := slices.ContainsFunc(r.Configs, func(c sweep.ConfigResult) bool { return c.Params.Dropout != 0 })
	head := "rank\thidden\tactivation\toptimizer\tbatch\tlr\t"
	if decays {
		head += "weight decay\t"
	}
	if scheds {
		head += "schedule\t"
	}
	if clips {
		head += "clip norm\t"
	}
	if drops {
		head += "dropout\t"
	}
	head += "models\tval loss\t"
	if classes {
		head += "val accuracy\t"
	}
	fmt.Fprintln(tw, head+"best epoch\t")
	for _, c := range r.Configs {
		models := strconv.Itoa(c.Models)
		if c.Diverged > 0 {
			models = fmt.Sprintf("%d (%d diverged)", c.Models, c.Diverged)
		}
		row := fmt.Sprintf("%d\t%s\t%v\t%v\t%s\t%s\t", c.Rank, sweep.HiddenString(c.Params.Hidden), c.Params.Activation, c.Params.Optimizer,
			batchName(c.Params.Batch), strconv.FormatFloat(c.Params.LR, 'g', -1, 64))
		if decays {
			row += strconv.FormatFloat(c.Params.WeightDecay, 'g', -1, 64) + "\t"
		}
		if scheds {
			row += c.Params.Schedule.String() + "\t"
		}
		if clips {
			row += strconv.FormatFloat(c.Params.ClipNorm, 'g', -1, 64) + "\t"
		}
		if drops {
			row += strconv.FormatFloat(c.Params.Dropout, 'g', -1, 64) + "\t"
		}
		row += fmt.Sprintf("%s\t%s\t", models, plusMinus(c.ValLoss, c.ValLossStd, 1, "%.4f"))
		if classes {
			row += plusMinus(c.ValAccuracy, c.ValAccuracyStd, 100, "%.2f%%") + "\t"
		}
		fmt.Fprintln(tw, row+numOr(c.BestEpoch, "%.1f")+"\t")
	}
	tw.Flush()
	p := r.Plan
	how := fmt.Sprintf("%d-fold cross-validation", p.Folds)
	if p.Folds == 0 {
		how = fmt.Sprintf("%d held-out rows", r.Data.ValRows)
	}
	fmt.Fprintf(w, "%d trials (%d seeds each) of %s, %s; ranked by the validation %s at each model's best epoch, mean ± std over seeds and folds\n",
		len(r.Trials), len(p.Grid.Seeds), r.Data.Name, how, p.Metric)
}

// plusMinus formats mean ± std scaled by scale; a missing std is left out.
func plusMinus(mean, std sweep.Num, scale float64, format string) string {
	if math.IsNaN(float64(mean)) {
		return "—"
	}
	s := fmt.Sprintf(format, scale*float64(mean))
	if !math.IsNaN(float64(std)) {
		s += " ± " + fmt.Sprintf(format, scale*float64(std))
	}
	return s
}

func numOr(v sweep.Num, format string) string {
	if math.IsNaN(float64(v)) {
		return "—"
	}
	return fmt.Sprintf(format, float64(v))
}

// sweepBar shows the sweep's progress: a bar over every model's epochs on
// a terminal, and a line per model array.
type sweepBar struct {
	e     *env
	quiet bool
	bar   *progressbar.ProgressBar
	// done counts the member epochs of the arrays finished so far, total
	// all of them; at the epochs reported in the current array.
	done, total, at int
	chunk0          time.Time
	cur             *sweep.Chunk
	epochs          int
}

func newSweepBar(e *env, quiet bool, sw *sweep.Sweep) *sweepBar {
	s := &sweepBar{e: e, quiet: quiet, total: sw.Models() * sw.Plan.Epochs, epochs: sw.Plan.Epochs}
	if f, ok := e.stderr.(*os.File); ok && !quiet && term.IsTerminal(int(f.Fd())) && s.total > 0 {
		s.bar = progressbar.NewOptions(s.total,
			progressbar.OptionSetWriter(e.stderr),
			progressbar.OptionSetDescription("sweep"),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return s
}

// chunk is the Chunk hook: array i of n starts.
func (s *sweepBar) chunk(i, n int, c sweep.Chunk) {
	s.endChunk()
	s.cur, s.chunk0, s.at = &c, time.Now(), 0
	if s.quiet {
		return
	}
	line := fmt.Sprintf("array %d/%d: %d models of %v, %v, batch %s (%s)", i+1, n, len(c.Members), c.Spec, c.Optimizer, batchName(c.Batch), bytesNote(c.Bytes))
	if s.bar != nil {
		_ = s.bar.Clear()
	}
	fmt.Fprintln(s.e.stderr, line)
}

func bytesNote(b sweep.Estimate) string {
	return fmt.Sprintf("about %.1f MiB", float64(b.Total)/(1<<20))
}

// epoch is the Epoch hook.
func (s *sweepBar) epoch(sweep.Member, nn.EpochStats) {
	s.at++
	if s.bar != nil {
		_ = s.bar.Set(s.done + s.at)
	}
}

// endChunk counts the finished array's epochs in full (models that
// stopped early skip theirs) and reports its time.
func (s *sweepBar) endChunk() {
	if s.cur == nil {
		return
	}
	s.done += len(s.cur.Members) * s.epochs
	if s.bar != nil {
		_ = s.bar.Set(s.done)
	}
	if !s.quiet && s.bar == nil {
		fmt.Fprintf(s.e.stderr, "        done in %.1fs (%d of %d model epochs so far)\n", time.Since(s.chunk0).Seconds(), s.done, s.total)
	}
	s.cur = nil
}

func (s *sweepBar) finish() {
	s.endChunk()
	if s.bar != nil {
		_ = s.bar.Finish()
	}
}

// runSweepMerge is 'gputrain sweep merge': it reads shard files and prints
// what one run of the whole grid prints, less the retrained best.
func runSweepMerge(e *env, args []string) error {
	fs := newFlags(e, "sweep merge", `[--json] [--out FILE] [--plot FILE] FILES...

Reads the results files of a sweep's shards (gputrain sweep --out, or
--json) and prints the table (or with --json the results) that one run of
the whole grid prints: the same trials in the same order, the same
figures. It refuses files of different sweeps (another grid, plan or
training data: their fingerprints differ), a trial in two files, and
missing trials, naming the file. The best configuration is not retrained:
run the 'gputrain train' command it prints.`)
	jsonOut := fs.Bool("json", false, "print the merged results JSON on stdout instead of the table")
	out := fs.String("out", "", "write the merged results JSON to `FILE`, atomically")
	plotPath := fs.String("plot", "", "write the sweep's PNG to `FILE` (see gputrain help sweep)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	if fs.NArg() == 0 {
		return usagef("merge needs the shards' results files, e.g. gputrain sweep merge shard-*.json")
	}
	var inputs []output
	for _, name := range fs.Args() {
		inputs = append(inputs, output{path: name, what: "the results file " + name})
	}
	p := &sweepPlan{f: &sweepFlags{json: *jsonOut}, out: output{flag: "out", path: *out, what: "the results"},
		plotOut: output{flag: "plot", path: *plotPath, what: "the plot"}}
	if err := checkOutputs(inputs, p.out, p.plotOut); err != nil {
		return err
	}
	var files []sweep.File
	for _, name := range fs.Args() {
		f, err := sweep.ReadFile(name)
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	merged, err := sweep.Merge(files...)
	if err != nil {
		return err
	}
	if err := p.report(e, sweepDoc{Results: merged}, merged.Data.Classes > 0); err != nil {
		return err
	}
	if best, ok := merged.Best(); ok && !*jsonOut {
		fmt.Fprintf(e.stdout, "\nbest: %v; to retrain and save it: %s\n", best.Params, trainCommand(merged, best))
	}
	return nil
}

// trainCommand is the 'gputrain train' command line that retrains
// configuration c as a whole sweep would (data flags not included).
func trainCommand(r *sweep.Results, c sweep.ConfigResult) string {
	decay := ""
	if c.Params.WeightDecay != 0 || c.Params.Optimizer == nn.AdamW { // adamw's default is not 0
		decay = " --weight-decay " + strconv.FormatFloat(c.Params.WeightDecay, 'g', -1, 64)
	}
	if s := r.Plan.LRSchedule; c.Params.Schedule != nn.ConstantLR || s.Warmup > 0 {
		decay += " --schedule " + c.Params.Schedule.String()
		if s.Warmup > 0 {
			decay += fmt.Sprintf(" --warmup %d", s.Warmup)
		}
		switch c.Params.Schedule {
		case nn.CosineLR:
			decay += " --lr-min " + strconv.FormatFloat(s.MinLR, 'g', -1, 64)
		case nn.StepLR:
			decay += fmt.Sprintf(" --step-every %d --step-gamma %s", s.StepEvery, strconv.FormatFloat(s.StepGamma, 'g', -1, 64))
		case nn.PlateauLR:
			decay += fmt.Sprintf(" --plateau-patience %d --plateau-factor %s --lr-min %s", s.PlateauPatience,
				strconv.FormatFloat(s.PlateauFactor, 'g', -1, 64), strconv.FormatFloat(s.MinLR, 'g', -1, 64))
		}
	}
	if c.Params.ClipNorm != 0 {
		decay += " --clip-norm " + strconv.FormatFloat(c.Params.ClipNorm, 'g', -1, 64)
	}
	if c.Params.Dropout != 0 {
		decay += " --dropout " + strconv.FormatFloat(c.Params.Dropout, 'g', -1, 64)
	}
	if r.Plan.ClassWeights != nil {
		var pairs []string
		for k, w := range r.Plan.ClassWeights {
			pairs = append(pairs, fmt.Sprintf("%d:%s", k, strconv.FormatFloat(w, 'g', -1, 64)))
		}
		decay += " --class-weight " + strings.Join(pairs, ",")
	}
	return fmt.Sprintf("gputrain train --hidden %s --activation %v --optimizer %v --batch %d --lr %s%s --epochs %d --seed %d --save best.safetensors (with the sweep's data flags)",
		strings.ReplaceAll(sweep.HiddenString(c.Params.Hidden), "x", ","), c.Params.Activation, c.Params.Optimizer, c.Params.Batch,
		strconv.FormatFloat(c.Params.LR, 'g', -1, 64), decay, r.Plan.RetrainEpochs(c), r.Plan.Grid.Seeds[0])
}
