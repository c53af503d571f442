package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/gpu"
	"github.com/gputrain/gputrain/nn"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func init() {
	register(&command{name: "train", summary: "train an MLP classifier or regressor on images or a CSV table (the default command)", run: runTrain})
}

type trainFlags struct {
	device, data, digits, hidden, activation, optimizer string
	lr, val                                             float64
	batch, epochs, earlyStop, logEvery                  int
	seed                                                uint64
	save, resume, plot, preset                          string
	json, autotune, verify                              bool
}

// trainResult is the --json output of train and eval.
type trainResult struct {
	Device           string         `json:"device"`
	Backend          string         `json:"backend"`
	Adapter          string         `json:"adapter"`
	Data             string         `json:"data"`
	Synthetic        bool           `json:"synthetic"`
	Model            string         `json:"model"`
	Epochs           int            `json:"epochs"`
	TestLoss         float64        `json:"test_loss"`
	TestAccuracy     float64        `json:"test_accuracy"`
	TestRMSE         *float64       `json:"test_rmse,omitempty"` // regression, in the target's units
	TestMAE          *float64       `json:"test_mae,omitempty"`
	TestR2           *float64       `json:"test_r2,omitempty"`
	TrainLoss        float64        `json:"train_loss,omitempty"`
	TrainAccuracy    float64        `json:"train_accuracy,omitempty"`
	SamplesPerSecond float64        `json:"samples_per_second,omitempty"`
	Seconds          float64        `json:"seconds"`
	History          []historyEntry `json:"history,omitempty"`
	// BestEpoch and StoppedEarly are train's (nil and false without
	// --val); omitted by eval.
	BestEpoch    *int   `json:"best_epoch,omitempty"`
	StoppedEarly *bool  `json:"stopped_early,omitempty"`
	Interrupted  bool   `json:"interrupted,omitempty"`
	Checkpoint   string `json:"checkpoint,omitempty"`
}

// historyEntry is one epoch of --json's history. Figures that do not exist
// (accuracy of a regression, validation without --val) are null.
type historyEntry struct {
	Epoch            int      `json:"epoch"`
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
	return historyEntry{Epoch: s.Epoch, Steps: s.Steps, Samples: s.Samples, Loss: s.Loss,
		Accuracy: nullable(s.Accuracy), ValLoss: nullable(s.ValLoss), ValAccuracy: nullable(s.ValAccuracy), Best: s.Best,
		SamplesPerSecond: s.SamplesPerSec, Seconds: s.Duration.Seconds(), Partial: s.Partial}
}

// nullable is nil for NaN (JSON has no NaN), else a pointer to v.
func nullable(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

const trainSynopsis = `[flags]

Trains an MLP classifier. With no flags: the built-in real digits (UCI,
8x8 images scaled by 1/16; the test set is a fixed 20% of each class, 359
images, the other 1438 train), a 64-128-64-10 sigmoid MLP with a softmax
head, Adam lr 0.01, batch 32, 20 epochs: about 97% test accuracy in a
second on a CPU.`

func runTrain(e *env, args []string) error {
	var f trainFlags
	fs := newFlags(e, "train", trainSynopsis)
	fs.StringVar(&f.device, "device", "auto", deviceHelp)
	fs.StringVar(&f.data, "data", "digits", dataHelp)
	fs.StringVar(&f.digits, "digits", "", "keep only these classes, e.g. 0,1 (two classes = the binary task)")
	fs.StringVar(&f.hidden, "hidden", "128,64", "hidden layer widths")
	fs.StringVar(&f.activation, "activation", "sigmoid", "hidden activation: sigmoid, relu or tanh")
	fs.StringVar(&f.optimizer, "optimizer", "adam", "sgd, momentum or adam")
	fs.Float64Var(&f.lr, "lr", 0.01, "learning rate")
	fs.IntVar(&f.batch, "batch", 32, "minibatch size; 0 means full batch (classic gradient descent: one step an epoch)")
	fs.IntVar(&f.epochs, "epochs", 20, "passes over the training set")
	fs.Uint64Var(&f.seed, "seed", 1, "seed for the initial weights, the shuffling and the --val split")
	fs.Float64Var(&f.val, "val", 0, "hold out this `FRACTION` of the training set for validation (stratified by class, drawn with --seed), evaluated every epoch; 0 = none. --resume keeps the checkpoint's split")
	fs.IntVar(&f.earlyStop, "early-stop", 0, "stop after `N` epochs without a lower validation loss and keep the best epoch's weights (needs --val); 0 = off. --resume keeps the checkpoint's")
	fs.IntVar(&f.logEvery, "log-every", 0, "print the first epoch, every `N`-th after it and the last (full batch: iteration 0, N, 2N, … as the tutorial counts); 0 = every epoch. --save then keeps those epochs' states")
	fs.StringVar(&f.preset, "preset", "", presetHelp())
	fs.StringVar(&f.save, "save", "", "write a checkpoint (safetensors) to `FILE` after every epoch, one behind (an epoch's state is written once the next epoch's loss shows it sound), and at the end (with --early-stop: the best epoch's weights)")
	fs.StringVar(&f.resume, "resume", "", "continue training the checkpoint in `FILE`: its --hidden, --activation, --digits (and table encoding) are used; flags given that contradict them are errors")
	fs.StringVar(&f.plot, "plot", "", "write a PNG of training (and validation) loss and accuracy per epoch to `FILE`")
	fs.BoolVar(&f.json, "json", false, "print one JSON object on stdout at the end")
	fs.BoolVar(&f.verify, "verify", true, verifyHelp)
	fs.BoolVar(&f.autotune, "autotune", false, "measure the GPU matmul tile configurations per shape and keep the fastest (remembered across runs: $GPUTRAIN_TUNE_CACHE or the user cache folder)")
	tf := addTableFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	explicit := map[string]bool{} // given on the command line, not by a preset
	fs.Visit(func(fl *flag.Flag) { explicit[fl.Name] = true })
	if f.preset != "" {
		if err := applyPreset(fs, f.preset); err != nil {
			return err
		}
	}
	if err := tf.withTableDefaults(fs); err != nil {
		return err
	}
	hidden, err := parseInts("hidden", f.hidden, 1)
	if err != nil {
		return err
	}
	digits, err := parseInts("digits", f.digits, 0)
	if err != nil {
		return err
	}
	act, err := backend.ParseActivation(f.activation)
	if err != nil || act == backend.Identity {
		return usagef("--activation %q: want sigmoid, relu or tanh", f.activation)
	}
	opt, err := nn.ParseOptimizer(f.optimizer)
	if err != nil {
		return usagef("--optimizer: %v", err)
	}
	if err := checkLR(f.lr); err != nil {
		return err
	}
	if f.batch < 0 {
		return usagef("--batch %d must be positive, or 0 for full batch", f.batch)
	}
	if f.epochs < 1 {
		return usagef("--epochs %d must be at least 1", f.epochs)
	}
	if math.IsNaN(f.val) || f.val < 0 || f.val >= 1 {
		return usagef("--val %v must be a fraction in [0, 1): 0 for none, e.g. 0.1 to hold out a tenth", f.val)
	}
	if f.earlyStop < 0 {
		return usagef("--early-stop %d must be 0 (off) or a number of epochs", f.earlyStop)
	}
	if f.logEvery < 0 {
		return usagef("--log-every %d must be 0 (every epoch) or a number of epochs", f.logEvery)
	}
	if err := checkDevice(f.device); err != nil {
		return err
	}
	saveOut := output{flag: "save", path: f.save, what: "the checkpoint"}
	plotOut := output{flag: "plot", path: f.plot, what: "the plot"}
	if err := checkOutputs(trainInputs(f, tf), saveOut, plotOut); err != nil {
		return err
	}

	var rc *resumed
	if f.resume != "" {
		if rc, err = reconcileResume(f.resume, explicit, hidden, act, &digits, tf); err != nil {
			return err
		}
	}

	split, table, err := loadTrainData(e, fs, tf, f.data, digits, f.resume, f.val, f.seed)
	if err != nil {
		return err
	}
	if rc != nil {
		if err := rc.check(split.Train); err != nil {
			return err
		}
	}
	b, why, err := openDevice(f.device, f.autotune)
	if err != nil {
		return err
	}
	defer b.Close()
	announce(e, b, why, false)
	if err := verifyDevice(e, b, f.verify); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "data:   %s\n", describeData(split))

	var m *nn.Model
	if f.resume != "" {
		m, err = nn.Load(f.resume, b)
		if err != nil {
			return err
		}
	} else {
		spec := nn.Spec{Inputs: split.Train.Cols, Hidden: hidden, Activation: act}
		spec.Head, spec.Outputs = headFor(split.Train)
		if spec.Head == nn.RegressionHead && table == nil {
			return fmt.Errorf("%s: train needs a classification data set (found %d classes)", split.Train.Name, split.Train.Classes)
		}
		m, err = nn.NewModel(b, spec, f.seed)
		if err != nil {
			return err
		}
		m.Info.Subset = digits // which classes of the data, for --resume, eval and predict
		if table != nil {
			if m.Scaling, err = tableScaling(split.Train, spec, table, f.val, f.seed); err != nil {
				m.Free()
				return err
			}
			m.Table = table
		}
	}
	defer m.Free()

	cfg := nn.Config{Optimizer: opt, LR: f.lr, Batch: f.batch, Epochs: f.epochs, Seed: f.seed,
		ValFraction: f.val, ValSeed: f.seed, Patience: f.earlyStop}
	// A resumed model keeps its validation split and early stopping unless
	// the flags say otherwise.
	if vi := m.Info.Validation; vi != nil && vi.Fraction > 0 {
		if !explicit["val"] {
			cfg.ValFraction, cfg.ValSeed = vi.Fraction, vi.Seed
		}
		if !explicit["early-stop"] && cfg.ValFraction > 0 {
			cfg.Patience = vi.Patience
		}
	}
	if cfg.Patience > 0 && cfg.ValFraction == 0 {
		return usagef("--early-stop needs a validation set: add --val FRACTION, e.g. --val 0.1")
	}
	valNote := ""
	if cfg.ValFraction > 0 {
		valNote = fmt.Sprintf(", validation %g of the training set (seed %d)", cfg.ValFraction, cfg.ValSeed)
		if cfg.Patience > 0 {
			valNote += fmt.Sprintf(", early stopping after %d epochs without a better validation loss", cfg.Patience)
		}
	}
	fmt.Fprintf(e.stderr, "model:  %v, %s lr %g, batch %s, %d epochs%s\n", m.Spec, opt, f.lr, batchName(f.batch), f.epochs, valNote)
	if rc != nil {
		fmt.Fprintf(e.stderr, "        %s\n", rc.note())
	}

	res := trainResult{Data: split.Train.Name, Synthetic: split.Synthetic, Model: m.Spec.String(), Checkpoint: f.save}
	fillDevice(&res, b.Info())
	start := time.Now()
	firstEpoch := m.Info.Epoch + 1
	lastEpoch := m.Info.Epoch + f.epochs // epochs count over the model's life
	bar := newBar(e, f.json, lastEpoch)
	logged := func(epoch int) bool {
		return f.logEvery == 0 || (epoch-firstEpoch)%f.logEvery == 0 || epoch == lastEpoch
	}
	// A checkpoint that cannot be written anywhere stops training: the
	// context is cancelled from the epoch hook and the error reported.
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	ck := newCheckpointer(e, f.save)
	var saveErr error
	var epochs []nn.EpochStats
	hooks := nn.Hooks{
		Step: bar.progress,
		Epoch: func(s nn.EpochStats) {
			epochs = append(epochs, s)
			if s.Partial {
				bar.epoch(s)
				return
			}
			// Train reports an epoch only when its loss did not diverge:
			// the state held at the last logged epoch is sound.
			err := ck.vouch()
			if logged(s.Epoch) {
				bar.epoch(s)
				if err == nil {
					err = ck.hold(m, s.Epoch)
				}
			}
			if err != nil && saveErr == nil {
				saveErr = err
				cancel()
			}
		},
	}
	hist, trainErr := nn.Train(ctx, b, m, split.Train, cfg, hooks)
	bar.finish()
	if n := len(epochs); n > 0 && !logged(epochs[n-1].Epoch) && !epochs[n-1].Partial {
		bar.epoch(epochs[n-1]) // the last epoch of a run that stopped early
	}
	if g, ok := b.(*gpu.Backend); ok && f.autotune {
		for _, l := range g.TuneLog() {
			fmt.Fprintf(e.stderr, "autotune: %s\n", l)
		}
	}
	res.Seconds = time.Since(start).Seconds()
	res.Epochs = len(hist.Epochs)
	for _, s := range hist.Epochs {
		res.History = append(res.History, newHistoryEntry(s))
	}
	// The training figures are those of the epoch whose weights the model
	// holds: the last, or with early stopping the best.
	trainEpoch := nn.EpochStats{}
	if n := len(hist.Epochs); n > 0 {
		trainEpoch = hist.Epochs[n-1]
		total, secs := 0, 0.0
		for _, s := range hist.Epochs {
			total += s.Samples
			secs += s.Duration.Seconds()
			if cfg.Patience > 0 && s.Epoch == hist.BestEpoch {
				trainEpoch = s
			}
		}
		if secs > 0 {
			res.SamplesPerSecond = float64(total) / secs
		}
		res.TrainLoss, res.TrainAccuracy = trainEpoch.Loss, trainEpoch.Accuracy
	}
	if cfg.ValFraction > 0 {
		best, stopped := hist.BestEpoch, hist.StoppedEarly
		res.BestEpoch, res.StoppedEarly = &best, &stopped
	}
	if saveErr != nil {
		return saveErr
	}
	if trainErr != nil {
		if errors.Is(trainErr, context.Canceled) {
			res.Interrupted = true
			msg := "interrupted: finished the current step"
			if f.save != "" {
				if err := ck.write(m, m.Info.Epoch); err == nil {
					msg = fmt.Sprintf("interrupted: finished the current step and saved it to %s", ck.path())
				} else {
					msg += fmt.Sprintf("; %v; %s", err, ck.kept())
				}
			}
			fmt.Fprintln(e.stderr, msg)
			if f.json {
				_ = json.NewEncoder(e.stdout).Encode(res)
			}
			return &exitError{code: 130}
		}
		trainErr = flagDivergence(trainErr)
		if errors.Is(trainErr, nn.ErrDiverged) && f.save != "" {
			return fmt.Errorf("%w; %s", trainErr, ck.kept())
		}
		return trainErr
	}
	if hist.StoppedEarly {
		bestStats := hist.Epochs[0]
		for _, s := range hist.Epochs {
			if s.Epoch == hist.BestEpoch {
				bestStats = s
			}
		}
		fmt.Fprintf(e.stderr, "early stop: no lower validation loss in the %d epochs after epoch %d (validation loss %.6g%s); its weights are kept\n",
			cfg.Patience, hist.BestEpoch, bestStats.ValLoss, pct(", accuracy ", bestStats.ValAccuracy))
	} else if cfg.Patience > 0 && hist.BestEpoch > 0 && hist.BestEpoch < m.Info.Epoch {
		fmt.Fprintf(e.stderr, "kept the weights of epoch %d, the lowest validation loss\n", hist.BestEpoch)
	}
	// The final state: after the last epoch, or the best one kept.
	if err := ck.write(m, m.Info.Epoch); err != nil {
		return err
	}
	ev, rm, err := evaluate(m, split.Test, evalBatch(f.batch))
	if err != nil {
		return err
	}
	res.TestLoss, res.TestAccuracy = ev.Loss, ev.Accuracy
	if rm != nil {
		res.setRegression(*rm)
	}
	plotPath, plotErr := "", error(nil)
	if f.plot != "" {
		info := b.Info()
		title := fmt.Sprintf("%v · %s · %s: %s (%s)", m.Spec, strings.Replace(split.Train.Name, " train", "", 1), info.Kind, info.Adapter, info.Precision)
		plotPath, plotErr = writeOutput(plotOut, func(p string) error { return plotHistory(p, hist, title) })
		if plotPath == "" {
			return plotErr
		}
	}
	// Outputs written to a fallback path: said at the end, exit status 1.
	var rescued []error
	if ck.rescued != nil {
		rescued = append(rescued, ck.rescued)
		res.Checkpoint = ck.path()
	}
	if plotErr != nil {
		rescued = append(rescued, plotErr)
	}
	if f.json {
		if err := json.NewEncoder(e.stdout).Encode(res); err != nil {
			return err
		}
		return errors.Join(rescued...)
	}
	if trainEpoch.Epoch > 0 {
		fmt.Fprintf(e.stdout, "train: loss %.6g%s over %d rows in epoch %d\n", trainEpoch.Loss, pct(", accuracy ", trainEpoch.Accuracy), hist.TrainRows, trainEpoch.Epoch)
		if !math.IsNaN(trainEpoch.ValLoss) {
			fmt.Fprintf(e.stdout, "validation: loss %.6g%s on %d rows after epoch %d\n", trainEpoch.ValLoss, pct(", accuracy ", trainEpoch.ValAccuracy), hist.ValRows, trainEpoch.Epoch)
		}
	}
	fmt.Fprintf(e.stdout, "test: %s (%.1fs, %s samples/s)\n",
		testSummary(ev, rm, split.Test.Name), res.Seconds, humanRate(res.SamplesPerSecond))
	if f.save != "" {
		fmt.Fprintf(e.stdout, "model saved to %s\n", ck.path())
	}
	if f.plot != "" {
		fmt.Fprintf(e.stdout, "plot written to %s\n", plotPath)
	}
	return errors.Join(rescued...)
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
	return []output{
		{flag: "csv", path: tf.csv, what: "the table"},
		{flag: "test-csv", path: tf.testCSV, what: "the test table"},
		{flag: "resume", path: f.resume, what: "the checkpoint", keeps: "save"},
	}
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
