package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gputrain/gputrain/internal/jsonnum"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/fit"
	"github.com/gputrain/gputrain/gpu"
	"github.com/gputrain/gputrain/internal/memlimit"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/table"
)

func init() {
	register(&command{name: "train", summary: "train an MLP classifier or regressor on images or a CSV table (the default command)", run: runTrain})
}

type trainFlags struct {
	device, data, digits, hidden, activation, optimizer string
	schedule, classWeight                               string
	warmup, stepEvery, plateauPatience                  int
	lrMin, stepGamma, plateauFactor                     float64
	lr, val, weightDecay, clipNorm, dropout             float64
	batch, epochs, earlyStop, logEvery, ensemble        int
	seed                                                uint64
	save, resume, plot, preset                          string
	json, autotune, verify                              bool
}

// trainResult is the --json output of train and eval.
type trainResult struct {
	Device       string    `json:"device"`
	Backend      string    `json:"backend"`
	Adapter      string    `json:"adapter"`
	Data         string    `json:"data"`
	Synthetic    bool      `json:"synthetic"`
	Model        string    `json:"model"`
	Epochs       int       `json:"epochs"`
	Optimizer    string    `json:"optimizer,omitempty"`
	WeightDecay  float64   `json:"weight_decay,omitempty"`
	ClipNorm     float64   `json:"clip_norm,omitempty"`
	Dropout      float64   `json:"dropout,omitempty"`
	ClassWeights []float64 `json:"class_weights,omitempty"`
	TestLoss     float64   `json:"test_loss"`
	TestAccuracy float64   `json:"test_accuracy"`
	// BalancedAccuracy, Recall (per class; null for a class without test
	// rows) and Confusion (rows: true class, columns: predicted) are a
	// classifier's test figures.
	BalancedAccuracy *float64           `json:"balanced_accuracy,omitempty"`
	Recall           []*float64         `json:"recall,omitempty"`
	Confusion        nn.ConfusionMatrix `json:"confusion,omitempty"`
	TestRMSE         *float64           `json:"test_rmse,omitempty"` // regression, in the target's units
	TestMAE          *float64           `json:"test_mae,omitempty"`
	TestR2           *float64           `json:"test_r2,omitempty"`
	TrainLoss        float64            `json:"train_loss,omitempty"`
	TrainAccuracy    float64            `json:"train_accuracy,omitempty"`
	SamplesPerSecond float64            `json:"samples_per_second,omitempty"`
	Seconds          float64            `json:"seconds"`
	History          []historyEntry     `json:"history,omitempty"`
	// BestEpoch and StoppedEarly are train's (nil and false without
	// --val); omitted by eval.
	BestEpoch    *int   `json:"best_epoch,omitempty"`
	StoppedEarly *bool  `json:"stopped_early,omitempty"`
	Interrupted  bool   `json:"interrupted,omitempty"`
	Checkpoint   string `json:"checkpoint,omitempty"`
	// Ensemble is the number of models of an ensemble (train --ensemble,
	// eval of its checkpoint), whose test figures above are the averaged
	// predictions'; the Members* figures are the members' mean, each
	// scored alone. Omitted for a single model.
	Ensemble            int      `json:"ensemble,omitempty"`
	MembersTestLoss     *float64 `json:"members_test_loss,omitempty"`
	MembersTestAccuracy *float64 `json:"members_test_accuracy,omitempty"`
	MembersTestRMSE     *float64 `json:"members_test_rmse,omitempty"`
	MembersTestMAE      *float64 `json:"members_test_mae,omitempty"`
	MembersTestR2       *float64 `json:"members_test_r2,omitempty"`
}

// historyEntry is one epoch of --json's history. Figures that do not exist
// (accuracy of a regression, validation without --val) are null.
type historyEntry struct {
	Epoch            int      `json:"epoch"`
	LR               float64  `json:"lr"`
	Steps            int      `json:"steps"`
	Samples          int      `json:"samples"`
	Loss             float64  `json:"loss"`
	Accuracy         *float64 `json:"accuracy"`
	ValLoss          *float64 `json:"val_loss"`
	ValAccuracy      *float64 `json:"val_accuracy"`
	Best             bool     `json:"best,omitempty"`
	SamplesPerSecond float64  `json:"samples_per_second"`
	Seconds          float64  `json:"seconds"`
	Partial          bool     `json:"partial,omitempty"`
}

func newHistoryEntry(s nn.EpochStats) historyEntry {
	return historyEntry{Epoch: s.Epoch, LR: s.LR, Steps: s.Steps, Samples: s.Samples, Loss: s.Loss,
		Accuracy: jsonnum.Ptr(s.Accuracy), ValLoss: jsonnum.Ptr(s.ValLoss), ValAccuracy: jsonnum.Ptr(s.ValAccuracy), Best: s.Best,
		SamplesPerSecond: s.SamplesPerSec, Seconds: s.Duration.Seconds(), Partial: s.Partial}
}

// imageSynopsis is train's usage on images (the default).
var imageSynopsis = `Trains an MLP classifier. With no flags: the built-in real digits (UCI,
8x8 images scaled by 1/16; the test set is a fixed 20% of each class, 359
images, the other 1438 train), a 64-128-64-10 sigmoid MLP with a softmax
head, Adam lr 0.01, batch 32, 20 epochs: about 97% test accuracy in a
second on a CPU. 28x28 image sets (--data mnist, fashion-mnist or an IDX
directory) have their own defaults: ` + largeImageNote() + `
(docs/regularisation.md has the figures).`

// trainSynopsis is train's usage: the images, then a table (--csv) with
// its own defaults (tableDefaults, tableEpochs).
func trainSynopsis() string {
	return "[flags]\n       gputrain train --csv FILE --target COLUMN [flags]\n\n" + imageSynopsis + "\n\n" + fmt.Sprintf(`With --csv FILE --target COLUMN it trains on a CSV table instead (a header
row of column names, then one row per example): a classifier for a text
target or one of at most %d distinct integers, a regressor for other
numbers (--task forces either). --features and --drop choose the input
columns; number columns are standardised with the training rows' means and
deviations, text columns one-hot encoded (at most --max-categories values
each), missing cells handled as --na says. The test rows are a held-out
--test-fraction of the table (drawn with --split-seed) or the --test-csv
table. A table's defaults differ from the images': --hidden %s
--activation %s --batch %s --lr %s, --epochs %d to classify (with
--weight-decay %g, an L2 term) or %d to regress; flags given win. The flags
that say "with --csv" need --csv.`,
		table.MaxAutoClasses, tableDefaults["hidden"], tableDefaults["activation"], tableDefaults["batch"], tableDefaults["lr"],
		tableEpochs[table.TaskClassify], fit.DefaultsFor(fit.Classes).WeightDecay, tableEpochs[table.TaskRegress])
}

// trainPlan is train's command line, checked: the flags, the values parsed
// from them and which flags were given explicitly.
type trainPlan struct {
	f  *trainFlags
	tf *tableFlags
	fs *flag.FlagSet
	// explicit holds the flags given on the command line, not by a preset.
	explicit       map[string]bool
	hidden, digits []int
	act            backend.Activation
	opt            nn.Optimizer
	sched          nn.Schedule
	// largeImages says that the 28x28 images' defaults applied.
	largeImages bool
	// classWeight is --class-weight parsed: nil for none, balanced, or
	// the weights given by class.
	classWeight *classWeightFlag
	saveOut     output
	plotOut     output
}

func runTrain(e *env, args []string) error {
	p, err := parseTrain(e, args)
	if err != nil {
		return err
	}
	var rc *resumed
	info := nn.TrainInfo{} // a new model's
	if p.f.resume != "" {
		if rc, err = reconcileResume(p.f.resume, p.explicit, p.hidden, p.act, &p.digits, p.tf); err != nil {
			return err
		}
		info = rc.info
	}
	split, table, err := loadTrainData(e, p.fs, p.tf, p.f.data, p.digits, p.f.resume, p.f.val, p.f.seed)
	if err != nil {
		return err
	}
	if rc != nil {
		if err := rc.check(split.Train); err != nil {
			return err
		}
	}
	cfg, err := p.config(info) // after the table's default --epochs is set
	if err != nil {
		return err
	}
	b, why, err := openDevice(p.f.device, p.f.autotune)
	if err != nil {
		return err
	}
	defer b.Close()
	announce(e, b, why, false)
	if err := p.checkMemory(b, split, rc); err != nil {
		return err
	}
	if err := verifyDevice(e, b, p.f.verify); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "data:   %s\n", describeData(split))
	if p.f.ensemble > 1 {
		return trainEnsemble(e, p, b, split, table, cfg)
	}
	m, err := p.model(b, split, table)
	if err != nil {
		return err
	}
	defer m.Free()
	if p.f.save != "" {
		// A checkpoint the loader would refuse (a header over its limit) is
		// refused now, not after the training it would have held.
		if _, err := m.Checkpoint(); err != nil {
			return fmt.Errorf("--save %s: this model's checkpoint cannot be written: %w", p.f.save, err)
		}
	}
	if cfg.ClassWeights, err = p.classWeight.weights(split.Train, m.Spec); err != nil {
		return err
	}
	p.banner(e, m, cfg, rc)
	r := newTrainRun(e, p, b, m, split, cfg)
	hist, trainErr := r.train()
	return r.finish(hist, trainErr)
}

// newTrainFlags declares train's flags.
func newTrainFlags(e *env) (*flag.FlagSet, *trainFlags, *tableFlags) {
	f := &trainFlags{}
	fs := newFlags(e, "train", trainSynopsis())
	fs.StringVar(&f.device, "device", "auto", deviceHelp)
	fs.StringVar(&f.data, "data", "digits", dataHelp)
	fs.StringVar(&f.digits, "digits", "", "keep only these classes, e.g. 0,1 (two classes = the binary task)")
	d := fit.DefaultsFor(fit.Images) // the library's defaults are train's
	fs.StringVar(&f.hidden, "hidden", intList(d.Hidden), "hidden layer widths")
	fs.StringVar(&f.activation, "activation", d.Activation.String(), "hidden activation: sigmoid, relu or tanh")
	fs.StringVar(&f.optimizer, "optimizer", d.Optimizer.String(), "sgd, momentum, adam or adamw (Adam with decoupled weight decay)")
	fs.Float64Var(&f.lr, "lr", d.LR, "learning rate")
	fs.Float64Var(&f.weightDecay, "weight-decay", d.WeightDecay, weightDecayHelp)
	fs.StringVar(&f.classWeight, "class-weight", "", "weigh each class's rows in the loss and its gradient: balanced (scikit-learn's: rows/(classes·rows of the class), from the training rows) or CLASS:WEIGHT pairs, e.g. 0:1,1:5 (classes not named weigh 1); Keras's class_weight semantics (the batch mean of the weighted losses). Classifiers only")
	fs.Float64Var(&f.clipNorm, "clip-norm", 0, "clip each step's gradient to this global 2-norm over all the parameters (PyTorch's clip_grad_norm_ max_norm), reduced on the device: one more dispatch a step, no readback; 0 = off")
	fs.Float64Var(&f.dropout, "dropout", 0, "drop each hidden-layer output with probability `P` while training (inverted dropout: the kept ones are scaled by 1/(1-P), evaluation never drops); the mask comes from a counter-based generator keyed by --seed, the step, the layer and the element, so the GPU and the CPU draw the same one. 0 = off; --resume keeps the checkpoint's unless given")
	addScheduleFlags(fs, f)
	fs.IntVar(&f.batch, "batch", d.Batch, "minibatch size; 0 means full batch (classic gradient descent: one step an epoch)")
	fs.IntVar(&f.epochs, "epochs", d.Epochs, "passes over the training set")
	fs.Uint64Var(&f.seed, "seed", d.Seed, "seed for the initial weights, the shuffling and the --val split")
	fs.Float64Var(&f.val, "val", 0, "hold out this `FRACTION` of the training set for validation (stratified by class, drawn with --seed), evaluated every epoch; 0 = none. --resume keeps the checkpoint's split")
	fs.IntVar(&f.earlyStop, "early-stop", 0, "stop after `N` epochs without a lower validation loss and keep the best epoch's weights (needs --val); 0 = off. --resume keeps the checkpoint's")
	fs.IntVar(&f.logEvery, "log-every", 0, "print the first epoch, every `N`-th after it and the last (full batch: iteration 0, N, 2N, … as the tutorial counts); 0 = every epoch. --save then keeps those epochs' states")
	fs.StringVar(&f.preset, "preset", "", presetHelp())
	fs.StringVar(&f.save, "save", "", "write a checkpoint (safetensors) to `FILE` after every epoch, one behind (an epoch's state is written once the next epoch's loss shows it sound), and at the end (with --early-stop: the best epoch's weights)")
	fs.StringVar(&f.resume, "resume", "", "continue training the checkpoint in `FILE`: its --hidden, --activation, --digits (and table encoding) are used; flags given that contradict them are errors")
	fs.IntVar(&f.ensemble, "ensemble", 1, "train `N` models of seeds --seed, --seed+1, … as one model array and save them in one checkpoint, whose eval and predict average their probabilities (or outputs); test figures of the ensemble beside the members' mean")
	fs.StringVar(&f.plot, "plot", "", "write a PNG of training (and validation) loss and accuracy per epoch to `FILE`")
	fs.BoolVar(&f.json, "json", false, "print one JSON object on stdout at the end")
	fs.BoolVar(&f.verify, "verify", true, verifyHelp)
	fs.BoolVar(&f.autotune, "autotune", false, "measure the GPU matmul tile configurations per shape and keep the fastest (remembered across runs: $GPUTRAIN_TUNE_CACHE or the user cache folder)")
	return fs, f, addTableFlags(fs)
}

// parseTrain parses train's command line, applies the preset and the table
// defaults, and checks every value before any file is read.
func parseTrain(e *env, args []string) (*trainPlan, error) {
	fs, f, tf := newTrainFlags(e)
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	p := &trainPlan{f: f, tf: tf, fs: fs, explicit: setFlags(fs)}
	if f.preset != "" {
		if src := presetData(f.preset); src != "" && tf.csv != "" {
			return nil, usagef("--preset %s trains on %s, another data source than --csv: give one", f.preset, src)
		}
		if err := applyPreset(fs, f.preset); err != nil {
			return nil, err
		}
	}
	if err := tf.withTableDefaults(fs); err != nil {
		return nil, err
	}
	if tf.csv == "" && largeImageData(f.data) {
		if err := setUnset(fs, largeImageDefaults); err != nil {
			return nil, fmt.Errorf("28x28 image default %w", err)
		}
		p.largeImages = true
	}
	var err error
	if p.hidden, err = parseInts("hidden", f.hidden, 1); err != nil {
		return nil, err
	}
	if p.digits, err = parseInts("digits", f.digits, 0); err != nil {
		return nil, err
	}
	if err := checkDistinct("digits", p.digits); err != nil {
		return nil, err
	}
	if p.act, err = backend.ParseActivation(f.activation); err != nil || p.act == backend.Identity {
		return nil, usagef("--activation %q: want sigmoid, relu or tanh", f.activation)
	}
	if p.opt, err = nn.ParseOptimizer(f.optimizer); err != nil {
		return nil, usagef("--optimizer: %v", err)
	}
	if p.opt == nn.AdamW && !p.explicit["weight-decay"] {
		f.weightDecay = adamWDecay
	}
	if err := f.checkNumbers(); err != nil {
		return nil, err
	}
	if err := p.checkEnsemble(); err != nil {
		return nil, err
	}
	if err := checkHiddenMemory(f.hidden, p.hidden, f.batch, strings.EqualFold(f.device, "cpu")); err != nil {
		return nil, err
	}
	if p.sched, err = f.scheduleOf(p.explicit); err != nil {
		return nil, err
	}
	if p.classWeight, err = parseClassWeight(f.classWeight); err != nil {
		return nil, err
	}
	if err := checkDevice(f.device); err != nil {
		return nil, err
	}
	p.saveOut = output{flag: "save", path: f.save, what: "the checkpoint"}
	p.plotOut = output{flag: "plot", path: f.plot, what: "the plot"}
	if err := checkOutputs(trainInputs(*f, tf), p.saveOut, p.plotOut); err != nil {
		return nil, err
	}
	return p, nil
}

// checkNumbers checks train's numeric flags.
func (f *trainFlags) checkNumbers() error {
	if err := checkLR(f.lr); err != nil {
		return err
	}
	if err := checkWeightDecay(f.weightDecay); err != nil {
		return err
	}
	if math.IsNaN(f.clipNorm) || math.IsInf(f.clipNorm, 0) || f.clipNorm < 0 {
		return usagef("--clip-norm %v must be 0 (off) or a positive finite number", f.clipNorm)
	}
	if err := checkDropout(f.dropout); err != nil {
		return err
	}
	switch {
	case f.batch < 0:
		return usagef("--batch %d must be positive, or 0 for full batch", f.batch)
	case f.epochs < 1:
		return usagef("--epochs %d must be at least 1", f.epochs)
	case math.IsNaN(f.val) || f.val < 0 || f.val >= 1:
		return usagef("--val %v must be a fraction in [0, 1): 0 for none, e.g. 0.1 to hold out a tenth", f.val)
	case f.earlyStop < 0:
		return usagef("--early-stop %d must be 0 (off) or a number of epochs", f.earlyStop)
	case f.logEvery < 0:
		return usagef("--log-every %d must be 0 (every epoch) or a number of epochs", f.logEvery)
	}
	return nil
}

// model loads the --resume checkpoint on b, or builds a new model for the
// training set (with the table's encoding and scaling for --csv).
func (p *trainPlan) model(b backend.Backend, split *data.Split, table *table.Encoder) (*nn.Model, error) {
	if p.f.resume != "" {
		return nn.Load(p.f.resume, b)
	}
	spec, err := p.spec(split, table)
	if err != nil {
		return nil, err
	}
	m, err := nn.NewModel(b, spec, p.f.seed)
	if err != nil {
		return nil, err
	}
	m.Info.Subset = p.digits // which classes of the data, for --resume, eval and predict
	m.Table = table          // Train's Standardize (config) leaves its one-hot inputs unscaled
	return m, nil
}

// checkHiddenMemory refuses, as a usage error, --hidden layers too wide
// for the memory there is, whatever the data: the least model they make
// (one input, one output) is checked, to train on the CPU (onCPU: the
// parameters, gradients and optimizer state all on the host), or else to be
// held on the host (its host copies; a GPU keeps the rest).
func checkHiddenMemory(flag string, hidden []int, batch int, onCPU bool) error {
	least := nn.Spec{Inputs: 1, Hidden: hidden, Outputs: 1}
	var me *memlimit.Error
	if err := least.CheckMemory(onCPU, max(batch, 1)); errors.As(err, &me) {
		what := "training layers this wide"
		if !onCPU {
			what = "holding layers this wide"
		}
		return usagef("--hidden %s: %s needs at least %s of memory, more than the %s available (%s); choose narrower layers",
			flag, what, memlimit.Bytes(me.Need), memlimit.Bytes(me.Limit), me.Source)
	}
	return nil
}

// checkMemory refuses, before training, a model that the memory there is
// cannot train on split on b: all of it on the host for the CPU backend,
// its host copies for a GPU. Its width comes from the data (a table's
// one-hot columns) or the --resume checkpoint. When --hidden alone is too
// wide it is a usage error.
func (p *trainPlan) checkMemory(b backend.Backend, split *data.Split, rc *resumed) error {
	onCPU := b.Info().Kind == "cpu"
	if rc == nil {
		if err := checkHiddenMemory(p.f.hidden, p.hidden, p.f.batch, onCPU); err != nil {
			return err
		}
	}
	spec := nn.Spec{Inputs: split.Train.Cols, Hidden: p.hidden, Activation: p.act}
	spec.Head, spec.Outputs = nn.HeadFor(split.Train)
	if rc != nil {
		spec = rc.spec
	}
	batch := p.f.batch
	if batch == 0 || batch > split.Train.Rows {
		batch = split.Train.Rows
	}
	return spec.CheckMemory(onCPU, batch)
}

// config is the training configuration, settled before the device is
// opened. A resumed model (info from its checkpoint) keeps its
// validation split and early stopping unless the flags say otherwise.
func (p *trainPlan) config(info nn.TrainInfo) (nn.Config, error) {
	f := p.f
	// A table's number inputs (and regression target) are standardised
	// with the training rows less the validation rows; a resumed model
	// keeps its scaling.
	cfg := nn.Config{Optimizer: p.opt, LR: f.lr, WeightDecay: f.weightDecay, Schedule: p.sched, ClipNorm: f.clipNorm, Dropout: f.dropout, Batch: f.batch, Epochs: f.epochs, Seed: f.seed,
		ValFraction: f.val, ValSeed: f.seed, Patience: f.earlyStop, Standardize: p.tf.csv != ""}
	// A resumed model keeps its dropout unless --dropout is given.
	if f.resume != "" && !p.explicit["dropout"] {
		cfg.Dropout = info.Dropout
	}
	// A resumed model's unfinished schedule continues where it stands
	// unless schedule flags are given (and its rate unless --lr is).
	if si := info.Schedule; f.resume != "" && si != nil && si.Done < si.Epochs && !p.anyExplicit(scheduleFlags...) {
		if s, err := si.Schedule(); err == nil {
			cfg.Schedule = s
			if !p.explicit["lr"] {
				cfg.LR = si.LR
			}
		}
	}
	if vi := info.Validation; vi != nil && vi.Fraction > 0 {
		if !p.explicit["val"] {
			cfg.ValFraction, cfg.ValSeed = vi.Fraction, vi.Seed
		}
		if !p.explicit["early-stop"] && cfg.ValFraction > 0 {
			cfg.Patience = vi.Patience
		}
	}
	switch {
	case cfg.Patience == 0 || cfg.ValFraction > 0:
	case f.resume != "" && !p.explicit["val"]:
		return cfg, usagef("--early-stop needs a validation set, and the --resume checkpoint %s has none: add --val FRACTION (e.g. --val 0.1) to hold out a new one, or leave --early-stop out", f.resume)
	default:
		return cfg, usagef("--early-stop needs a validation set: add --val FRACTION, e.g. --val 0.1")
	}
	return cfg, nil
}

// banner prints the model line: the network, the update rule, the
// validation and early stopping, and where a resumed model came from.
func (p *trainPlan) banner(e *env, m *nn.Model, cfg nn.Config, rc *resumed) {
	valNote := ""
	if cfg.ValFraction > 0 {
		valNote = fmt.Sprintf(", validation %g of the training set (seed %d)", cfg.ValFraction, cfg.ValSeed)
		if cfg.Patience > 0 {
			valNote += fmt.Sprintf(", early stopping after %d epochs without a better validation loss", cfg.Patience)
		}
	}
	fmt.Fprintf(e.stderr, "model:  %v, %s lr %g%s%s, batch %s, %d epochs%s\n", m.Spec, p.opt, cfg.LR, scheduleNote(cfg.Schedule),
		decayNote(p.opt, cfg.WeightDecay)+clipNote(cfg.ClipNorm)+dropoutNote(cfg.Dropout), batchName(p.f.batch), p.f.epochs, valNote)
	if cfg.ClassWeights != nil {
		fmt.Fprintf(e.stderr, "        class weights %s (%s)\n", floatList(cfg.ClassWeights), p.classWeight)
	}
	if p.largeImages {
		fmt.Fprintf(e.stderr, "        defaults for 28x28 images (--data %s), not the 8x8 digits': %s; flags given win\n", p.f.data, largeImageNote())
	}
	if rc != nil {
		fmt.Fprintf(e.stderr, "        %s\n", rc.note())
		for _, n := range rc.stateNotes(cfg) {
			fmt.Fprintf(e.stderr, "        %s\n", n)
		}
	}
}

// scheduleFlags are the flags that make the learning-rate schedule.
var scheduleFlags = []string{"schedule", "warmup", "lr-min", "step-every", "step-gamma", "plateau-patience", "plateau-factor"}

// anyExplicit reports whether any of the flags was given.
func (p *trainPlan) anyExplicit(flags ...string) bool {
	for _, f := range flags {
		if p.explicit[f] {
			return true
		}
	}
	return false
}

// classWeightFlag is --class-weight: balanced, or weights by class.
type classWeightFlag struct {
	balanced bool
	byClass  map[int]float64
}

func (c *classWeightFlag) String() string {
	if c.balanced {
		return "balanced: rows/(classes·rows of the class)"
	}
	return "given by --class-weight; classes not named weigh 1"
}

// parseClassWeight parses --class-weight: "" (none), "balanced" or
// CLASS:WEIGHT pairs.
func parseClassWeight(s string) (*classWeightFlag, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return nil, nil
	case "balanced":
		return &classWeightFlag{balanced: true}, nil
	}
	c := &classWeightFlag{byClass: map[int]float64{}}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), ":")
		cls, err1 := strconv.Atoi(strings.TrimSpace(k))
		w, err2 := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if !ok || err1 != nil || err2 != nil || cls < 0 {
			return nil, usagef("--class-weight %q: want balanced or CLASS:WEIGHT pairs such as 0:1,1:5", s)
		}
		if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			return nil, usagef("--class-weight: class %d's weight %v must be 0 or a positive finite number", cls, w)
		}
		if _, dup := c.byClass[cls]; dup {
			return nil, usagef("--class-weight: class %d given twice", cls)
		}
		c.byClass[cls] = w
	}
	return c, nil
}

// weights returns the class weights for a model of spec trained on train:
// nil without --class-weight.
func (c *classWeightFlag) weights(train *data.Set, spec nn.Spec) ([]float64, error) {
	if c == nil {
		return nil, nil
	}
	if !spec.Head.Classifies() {
		return nil, usagef("--class-weight needs a classifier; %s is a regression", train.Name)
	}
	k := spec.Classes()
	if c.balanced {
		return nn.BalancedClassWeights(train, k), nil
	}
	w := make([]float64, k)
	for i := range w {
		w[i] = 1
	}
	for cls, v := range c.byClass {
		if cls >= k {
			return nil, usagef("--class-weight: class %d, but the model has classes 0..%d", cls, k-1)
		}
		w[cls] = v
	}
	return w, nil
}

// floatList formats v as "[a b c]" with at most 4 significant digits.
func floatList(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'g', 4, 64)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// largeImageData reports whether --data names a 28x28 image set: mnist,
// fashion-mnist or an IDX directory, not the built-in digits or synthetic
// images.
func largeImageData(name string) bool { return name != "digits" && name != "synthetic" }

// largeImageDefaults are train's defaults for 28x28 images where they
// differ from the digits' (fit.DefaultsFor(fit.LargeImages)).
var largeImageDefaults = func() map[string]string {
	d := fit.DefaultsFor(fit.LargeImages)
	return map[string]string{
		"hidden":     intList(d.Hidden),
		"activation": d.Activation.String(),
		"lr":         strconv.FormatFloat(d.LR, 'g', -1, 64),
		"batch":      strconv.Itoa(d.Batch),
		"epochs":     strconv.Itoa(d.Epochs),
		"schedule":   d.Schedule.Kind.String(),
	}
}()

// largeImageNote lists largeImageDefaults as flags, in a fixed order.
func largeImageNote() string {
	var parts []string
	for _, name := range []string{"hidden", "activation", "lr", "batch", "epochs", "schedule"} {
		parts = append(parts, "--"+name+" "+largeImageDefaults[name])
	}
	return strings.Join(parts, " ")
}

// decayNote is the banner's words for a weight decay: none for 0.
func decayNote(opt nn.Optimizer, wd float64) string {
	switch {
	case wd == 0:
		return ""
	case opt == nn.AdamW:
		return fmt.Sprintf(", decoupled weight decay %g (biases not decayed)", wd)
	}
	return fmt.Sprintf(", L2 weight decay %g (biases not decayed)", wd)
}

// addScheduleFlags declares the learning-rate schedule's flags.
func addScheduleFlags(fs *flag.FlagSet, f *trainFlags) {
	fs.StringVar(&f.schedule, "schedule", "constant", "learning-rate schedule, per epoch: constant, cosine (from --lr to --lr-min over the epochs after the warm-up: PyTorch's CosineAnnealingLR), step (times --step-gamma every --step-every epochs: StepLR) or plateau (times --plateau-factor after more than --plateau-patience epochs without a lower loss, the validation loss with --val: ReduceLROnPlateau)")
	fs.IntVar(&f.warmup, "warmup", 0, "linear warm-up over the first `EPOCHS` epochs (epoch e at lr·e/(EPOCHS+1)), then the --schedule")
	fs.Float64Var(&f.lrMin, "lr-min", 0, "the learning rate's floor for --schedule cosine and plateau (eta_min, min_lr)")
	fs.IntVar(&f.stepEvery, "step-every", 10, "--schedule step: epochs between drops (step_size)")
	fs.Float64Var(&f.stepGamma, "step-gamma", 0.1, "--schedule step: the factor of each drop (gamma)")
	fs.IntVar(&f.plateauPatience, "plateau-patience", 10, "--schedule plateau: epochs without improvement before a drop (patience)")
	fs.Float64Var(&f.plateauFactor, "plateau-factor", 0.1, "--schedule plateau: the factor of each drop (factor)")
}

// scheduleOf checks the schedule's flags and returns the schedule; a flag
// of another schedule than --schedule's is an error.
func (f *trainFlags) scheduleOf(explicit map[string]bool) (nn.Schedule, error) {
	kind, err := nn.ParseSchedule(f.schedule)
	if err != nil {
		return nn.Schedule{}, usagef("--schedule: %v", err)
	}
	for name, k := range map[string]nn.ScheduleKind{"step-every": nn.StepLR, "step-gamma": nn.StepLR, "plateau-patience": nn.PlateauLR, "plateau-factor": nn.PlateauLR} {
		if explicit[name] && kind != k {
			return nn.Schedule{}, usagef("--%s applies to --schedule %v, not %v", name, k, kind)
		}
	}
	if explicit["lr-min"] && kind != nn.CosineLR && kind != nn.PlateauLR {
		return nn.Schedule{}, usagef("--lr-min applies to --schedule cosine or plateau, not %v", kind)
	}
	switch {
	case f.warmup < 0:
		return nn.Schedule{}, usagef("--warmup %d must be 0 (none) or a number of epochs", f.warmup)
	case math.IsNaN(f.lrMin) || math.IsInf(f.lrMin, 0) || f.lrMin < 0 || f.lrMin >= f.lr:
		return nn.Schedule{}, usagef("--lr-min %v must be at least 0 and below --lr %v", f.lrMin, f.lr)
	case f.stepEvery < 1:
		return nn.Schedule{}, usagef("--step-every %d must be at least 1", f.stepEvery)
	case !(f.stepGamma > 0 && f.stepGamma <= 1):
		return nn.Schedule{}, usagef("--step-gamma %v must be in (0, 1]", f.stepGamma)
	case f.plateauPatience < 1:
		return nn.Schedule{}, usagef("--plateau-patience %d must be at least 1", f.plateauPatience)
	case !(f.plateauFactor > 0 && f.plateauFactor < 1):
		return nn.Schedule{}, usagef("--plateau-factor %v must be in (0, 1)", f.plateauFactor)
	}
	return nn.Schedule{Kind: kind, Warmup: f.warmup, MinLR: f.lrMin, StepEvery: f.stepEvery, StepGamma: f.stepGamma,
		PlateauPatience: f.plateauPatience, PlateauFactor: f.plateauFactor}, nil
}

// clipNote is the banner's words for gradient clipping: none when off.
// dropoutNote is the banner's words for a dropout: none for 0.
func dropoutNote(p float64) string {
	if p == 0 {
		return ""
	}
	return fmt.Sprintf(", dropout %g on the hidden layers", p)
}

// checkDropout checks a --dropout probability: 0 ≤ p < 1.
func checkDropout(p float64) error {
	if !(p >= 0 && p < 1) {
		return usagef("--dropout %v must be at least 0 (0 = off) and below 1", p)
	}
	return nil
}

func clipNote(c float64) string {
	if c == 0 {
		return ""
	}
	return fmt.Sprintf(", gradients clipped to norm %g", c)
}

// scheduleNote is the banner's words for a schedule: none for a constant
// rate.
func scheduleNote(s nn.Schedule) string {
	note := ""
	switch s.Kind {
	case nn.CosineLR:
		note = fmt.Sprintf(" cosine to %g", s.MinLR)
	case nn.StepLR:
		note = fmt.Sprintf(" times %g every %d epochs", s.StepGamma, s.StepEvery)
	case nn.PlateauLR:
		note = fmt.Sprintf(" times %g after %d epochs on a plateau (floor %g)", s.PlateauFactor, s.PlateauPatience, s.MinLR)
	}
	if s.Warmup > 0 {
		note += fmt.Sprintf(" after %d warm-up epochs", s.Warmup)
	}
	return note
}

// trainRun is one training run: the model on its device, the progress
// shown, the checkpoints held and written, and the result reported.
type trainRun struct {
	e     *env
	p     *trainPlan
	b     backend.Backend
	m     *nn.Model
	split *data.Split
	cfg   nn.Config
	res   trainResult
	bar   *progress
	ck    *checkpointer
	start time.Time
	// first and last are the run's epochs, counted over the model's life.
	first, last int
	// startStep is the model's step count before the run.
	startStep int
	// epochs are the epochs reported so far.
	epochs []nn.EpochStats
	// saveErr is the first checkpoint that could not be written anywhere;
	// cancel then stops training.
	saveErr error
	cancel  context.CancelFunc
}

func newTrainRun(e *env, p *trainPlan, b backend.Backend, m *nn.Model, split *data.Split, cfg nn.Config) *trainRun {
	r := &trainRun{e: e, p: p, b: b, m: m, split: split, cfg: cfg, start: time.Now(),
		first: m.Info.Epoch + 1, last: m.Info.Epoch + p.f.epochs, startStep: m.Info.Step, ck: newCheckpointer(e, p.f.save),
		res: trainResult{Data: split.Train.Name, Synthetic: split.Synthetic, Model: m.Spec.String(), Checkpoint: p.f.save,
			Optimizer: cfg.Optimizer.String(), WeightDecay: cfg.WeightDecay, ClipNorm: cfg.ClipNorm, Dropout: cfg.Dropout, ClassWeights: cfg.ClassWeights}}
	fillDevice(&r.res, b.Info())
	r.bar = newBar(e, p.f.json, r.last)
	return r
}

// logged reports whether an epoch's line is printed (and its state held
// for --save).
func (r *trainRun) logged(epoch int) bool {
	return r.p.f.logEvery == 0 || (epoch-r.first)%r.p.f.logEvery == 0 || epoch == r.last
}

// train runs nn.Train with the progress and checkpoint hooks, and prints
// what is left to print when it returns.
func (r *trainRun) train() (nn.History, error) {
	// A checkpoint that cannot be written anywhere stops training: the
	// context is cancelled from the epoch hook and the error reported.
	ctx, cancel := context.WithCancel(r.e.ctx)
	defer cancel()
	r.cancel = cancel
	hist, err := nn.Train(ctx, r.b, r.m, r.split.Train, r.cfg, nn.Hooks{Step: r.bar.progress, Epoch: r.epoch})
	r.bar.finish()
	if n := len(r.epochs); n > 0 && !r.logged(r.epochs[n-1].Epoch) && !r.epochs[n-1].Partial {
		r.bar.epoch(r.epochs[n-1]) // the last epoch of a run that stopped early
	}
	if g, ok := r.b.(*gpu.Backend); ok && r.p.f.autotune {
		for _, l := range g.TuneLog() {
			fmt.Fprintf(r.e.stderr, "autotune: %s\n", l)
		}
	}
	return hist, err
}

// epoch is the epoch hook: it prints the epoch and holds its state for
// --save once the next epoch vouches for it.
func (r *trainRun) epoch(s nn.EpochStats) {
	r.epochs = append(r.epochs, s)
	if s.Partial {
		r.bar.epoch(s)
		return
	}
	// Train reports an epoch only when its loss did not diverge: the state
	// held at the last logged epoch is sound.
	err := r.ck.Vouch()
	if r.logged(s.Epoch) {
		r.bar.epoch(s)
		if err == nil {
			err = r.ck.Hold(r.m, s.Epoch)
		}
	}
	if err != nil && r.saveErr == nil {
		r.saveErr = err
		r.cancel()
	}
}

// record fills the result from the history and returns the epoch whose
// weights the model holds: the last, or with early stopping the best.
func (r *trainRun) record(hist nn.History) nn.EpochStats {
	r.res.Seconds = time.Since(r.start).Seconds()
	r.res.Epochs = len(hist.Epochs)
	for _, s := range hist.Epochs {
		r.res.History = append(r.res.History, newHistoryEntry(s))
	}
	trainEpoch := nn.EpochStats{}
	if n := len(hist.Epochs); n > 0 {
		trainEpoch = hist.Epochs[n-1]
		total, secs := 0, 0.0
		for _, s := range hist.Epochs {
			total += s.Samples
			secs += s.Duration.Seconds()
			if r.cfg.Patience > 0 && s.Epoch == hist.BestEpoch {
				trainEpoch = s
			}
		}
		if secs > 0 {
			r.res.SamplesPerSecond = float64(total) / secs
		}
		r.res.TrainLoss, r.res.TrainAccuracy = trainEpoch.Loss, trainEpoch.Accuracy
	}
	if r.cfg.ValFraction > 0 {
		best, stopped := hist.BestEpoch, hist.StoppedEarly
		r.res.BestEpoch, r.res.StoppedEarly = &best, &stopped
	}
	return trainEpoch
}

// failed reports a run that nn.Train ended with an error: an interrupt
// (the current state saved, exit status 130) or a divergence.
func (r *trainRun) failed(trainErr error) error {
	if !errors.Is(trainErr, context.Canceled) {
		trainErr = flagDivergence(trainErr)
		if errors.Is(trainErr, nn.ErrDiverged) && r.p.f.save != "" {
			return fmt.Errorf("%w; %s", trainErr, r.ck.kept())
		}
		return trainErr
	}
	r.res.Interrupted = true
	msg := "interrupted: finished the current step"
	switch {
	case r.p.f.save != "" && r.m.Info.Step == r.startStep && fileExists(r.p.f.save):
		// Nothing trained: the state the run started from is not written
		// over the file --save names (a fresh model's random weights would
		// destroy an earlier run's model).
		msg = fmt.Sprintf("interrupted before the first step: nothing trained, %s left as it was", r.p.f.save)
	case r.p.f.save != "":
		if err := r.ck.Save(r.m, r.m.Info.Epoch); err == nil {
			msg = fmt.Sprintf("interrupted: finished the current step and saved it to %s", r.ck.path())
		} else {
			msg += fmt.Sprintf("; %v; %s", err, r.ck.kept())
		}
	}
	fmt.Fprintln(r.e.stderr, msg)
	if r.p.f.json {
		_ = writeJSON(r.e.stdout, r.res)
	}
	return &exitError{code: 130}
}

// noteBest says which epoch's weights early stopping kept.
func (r *trainRun) noteBest(hist nn.History) {
	if hist.StoppedEarly {
		bestStats := hist.Epochs[0]
		for _, s := range hist.Epochs {
			if s.Epoch == hist.BestEpoch {
				bestStats = s
			}
		}
		fmt.Fprintf(r.e.stderr, "early stop: no lower validation loss in the %d epochs after epoch %d (validation loss %.6g%s); its weights are kept\n",
			r.cfg.Patience, hist.BestEpoch, bestStats.ValLoss, pct(", accuracy ", bestStats.ValAccuracy))
	} else if r.cfg.Patience > 0 && hist.BestEpoch > 0 && hist.BestEpoch < r.m.Info.Epoch {
		fmt.Fprintf(r.e.stderr, "kept the weights of epoch %d, the lowest validation loss\n", hist.BestEpoch)
	}
}

// finish ends a run: the final checkpoint, the test figures, the plot and
// the report. Outputs written to a fallback path are said at the end, with
// exit status 1.
func (r *trainRun) finish(hist nn.History, trainErr error) error {
	trainEpoch := r.record(hist)
	if r.saveErr != nil {
		return r.saveErr
	}
	if trainErr != nil {
		return r.failed(trainErr)
	}
	r.noteBest(hist)
	// The final state: after the last epoch, or the best one kept.
	if err := r.ck.Save(r.m, r.m.Info.Epoch); err != nil {
		return err
	}
	sc, err := evaluate(r.m, r.split.Test, evalBatch(r.p.f.batch))
	if err != nil {
		return err
	}
	r.res.TestLoss, r.res.TestAccuracy = sc.Loss, sc.Accuracy
	if sc.Regression != nil {
		r.res.setRegression(*sc.Regression)
	} else {
		cm, err := confusionOf(r.m, r.m.Spec.Classes(), r.split.Test)
		if err != nil {
			return err
		}
		r.res.setConfusion(cm)
	}
	plotPath, plotErr := "", error(nil)
	if r.p.f.plot != "" {
		info := r.b.Info()
		title := fmt.Sprintf("%v · %s · %s: %s (%s)", r.m.Spec, strings.Replace(r.split.Train.Name, " train", "", 1), info.Kind, info.Adapter, info.Precision)
		plotPath, plotErr = writeOutput(r.p.plotOut, func(p string) error { return plotHistory(p, hist, title) })
		if plotPath == "" {
			return plotErr
		}
	}
	var rescued []error
	if r.ck.rescued != nil {
		rescued = append(rescued, r.ck.rescued)
		r.res.Checkpoint = r.ck.path()
	}
	if plotErr != nil {
		rescued = append(rescued, plotErr)
	}
	if r.p.f.json {
		if err := writeJSON(r.e.stdout, r.res); err != nil {
			return err
		}
		return errors.Join(rescued...)
	}
	r.report(trainEpoch, hist, sc, plotPath)
	return errors.Join(rescued...)
}

// report prints the run's figures and outputs on stdout.
func (r *trainRun) report(trainEpoch nn.EpochStats, hist nn.History, sc nn.Score, plotPath string) {
	out := r.e.stdout
	if trainEpoch.Epoch > 0 {
		fmt.Fprintf(out, "train: loss %.6g%s over %d rows in epoch %d\n", trainEpoch.Loss, pct(", accuracy ", trainEpoch.Accuracy), hist.TrainRows, trainEpoch.Epoch)
		if !math.IsNaN(trainEpoch.ValLoss) {
			fmt.Fprintf(out, "validation: loss %.6g%s on %d rows after epoch %d\n", trainEpoch.ValLoss, pct(", accuracy ", trainEpoch.ValAccuracy), hist.ValRows, trainEpoch.Epoch)
		}
	}
	fmt.Fprintf(out, "test: %s (%.1fs, %s samples/s)\n",
		testSummary(sc, r.split.Test.Name), r.res.Seconds, humanRate(r.res.SamplesPerSecond))
	if r.p.f.save != "" {
		fmt.Fprintf(out, "model saved to %s\n", r.ck.path())
	}
	if r.p.f.plot != "" {
		fmt.Fprintf(out, "plot written to %s\n", plotPath)
	}
}

// flagDivergence makes a divergence error name the learning rate by its
// flag, --lr; other errors pass through.
func flagDivergence(err error) error {
	var de *nn.DivergedError
	if errors.As(err, &de) {
		de.RateName = "--lr"
	}
	return err
}

// trainInputs are the files train reads that its outputs must not name;
// --resume may be --save (continuing a model in place), not --plot.
func trainInputs(f trainFlags, tf *tableFlags) []output {
	ins := []output{
		{flag: "csv", path: tf.csv, what: "the table"},
		{flag: "test-csv", path: tf.testCSV, what: "the test table"},
		{flag: "resume", path: f.resume, what: "the checkpoint", keeps: "save"},
	}
	if tf.csv == "" {
		for _, p := range data.IDXPaths(f.data) { // the files of the --data folder
			ins = append(ins, output{flag: "data", path: p, what: "a data file"})
		}
	}
	return ins
}

// pct formats a fraction as prefix + "12.34%", or "" for NaN.
func pct(prefix string, v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return fmt.Sprintf("%s%.2f%%", prefix, 100*v)
}

func fillDevice(r *trainResult, info backend.Info) {
	r.Device, r.Backend, r.Adapter = info.Kind, info.API, info.Adapter
}

func batchName(b int) string {
	if b == 0 {
		return "full"
	}
	return fmt.Sprint(b)
}

// evalBatch is the chunk size for evaluation: large chunks, bounded memory.
func evalBatch(train int) int { return max(train, 1024) }

func humanRate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.1fk", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}

// exitError ends the program with a given status after its message (if any)
// was printed.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// progress draws a progress bar per epoch on a terminal, and prints the
// epoch lines it is given.
type progress struct {
	e     *env
	bar   *progressbar.ProgressBar
	tty   bool
	quiet bool
	start time.Time
	ep    int
	total int // the last epoch of the run
}

func newBar(e *env, quiet bool, total int) *progress {
	p := &progress{e: e, quiet: quiet, start: time.Now(), total: total}
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

func (p *progress) progress(pr nn.Progress) {
	if p.quiet || !p.tty || pr.Steps == 1 {
		return
	}
	if p.bar == nil || pr.Epoch != p.ep {
		p.ep = pr.Epoch
		p.start = time.Now()
		p.bar = progressbar.NewOptions(pr.Steps,
			progressbar.OptionSetWriter(p.e.stderr),
			progressbar.OptionSetDescription(fmt.Sprintf("epoch %d", pr.Epoch)),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = p.bar.Set(pr.Step)
}

// epoch prints one epoch's line. A full-batch epoch is one step, measured
// before its update: it is also named by the number of updates before it,
// the classic tutorial's "iteration".
func (p *progress) epoch(s nn.EpochStats) {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
	if p.quiet {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %d/%d", s.Epoch, p.total)
	if s.Steps == 1 && !s.Partial {
		fmt.Fprintf(&b, " (iteration %d)", s.Epoch-1)
	}
	fmt.Fprintf(&b, ": loss %.6g%s", s.Loss, pct(", accuracy ", s.Accuracy))
	if !math.IsNaN(s.ValLoss) {
		fmt.Fprintf(&b, ", val loss %.6g%s", s.ValLoss, pct(", val accuracy ", s.ValAccuracy))
		if s.Best {
			b.WriteString(" (best)")
		}
	}
	if s.Partial {
		b.WriteString(" (interrupted)")
	}
	fmt.Fprintf(&b, ", %s samples/s, %.1fs", humanRate(s.SamplesPerSec), s.Duration.Seconds())
	fmt.Fprintln(p.e.stderr, b.String())
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
