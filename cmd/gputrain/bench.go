package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/bench/benchrun"
	"github.com/gputrain/gputrain/bench/benchstep"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/device"
	"github.com/gputrain/gputrain/nn"
)

func init() {
	register(&command{name: "bench", summary: "time training steps per device and batch size (table, JSON, CSV, plot)", run: runBench})
}

const benchSynopsis = `[flags]

Times a full training step (gather, forward, loss, backward, update; data
resident on the device) for every --device and --batch: a warm-up step, then
--reps repetitions of --steps steps, each synced once. Reports the median and
spread of the step time, samples/s, GFLOP/s counted from the layer shapes,
GPU kernel time per step from timestamp queries (n/a where the adapter has
none), the host's time to record and submit a step with the dispatches it
records (GPU only), device memory and host peak RSS. --preset seed instead runs the
classic numpy tutorial workload (64-128-128-1 sigmoid MLP, 360 samples,
full-batch gradient descent, lr 0.01, 10001 steps) end to end, device
start-up included.`

// runBench is the bench command: a flag layer over bench/benchrun.
func runBench(e *env, args []string) error {
	fs := newFlags(e, "bench", benchSynopsis)
	devices := fs.String("device", "auto", "comma-separated devices, e.g. cpu,software,auto ("+strings.Join(device.Choices, ", ")+")")
	batches := fs.String("batch", "1,8,32,128,512,2048,8192", "comma-separated batch sizes")
	hidden := fs.String("hidden", "128,64", "hidden layer widths")
	dataName := fs.String("data", "synthetic", "synthetic, random (generated pixels, no data package), digits (the built-in UCI digits, scaled by 1/16 as train scales them), mnist, fashion-mnist, or a directory of MNIST-layout IDX files")
	activation := fs.String("activation", "sigmoid", "hidden activation: sigmoid, relu or tanh")
	optimizer := fs.String("optimizer", "sgd", "sgd, momentum or adam")
	lr := fs.Float64("lr", 0.01, "learning rate")
	models := fs.Int("models", 1, "models trained by each step: a model array of that many members of the same shape (nn.Array), in the dispatches of one model's step")
	steps := fs.Int("steps", 0, "steps per repetition; 0 chooses them so a repetition takes about --rep-seconds (preset seed: 0 means 10001 steps)")
	reps := fs.Int("reps", 5, "timed repetitions (preset seed: 1 unless given; each repeats the whole run)")
	repSeconds := fs.Float64("rep-seconds", 0.25, "target length of one repetition when --steps is 0")
	maxSteps := fs.Int("max-steps", 1000, "most steps per repetition when --steps is 0")
	seed := fs.Uint64("seed", 1, "seed for the weights and the minibatch order")
	preset := fs.String("preset", "", "seed: the classic numpy-tutorial workload, timed end to end")
	autotune := fs.Bool("autotune", false, "autotune the GPU matmul tiles (the choices are printed, and remembered across runs: $GPUTRAIN_TUNE_CACHE or the user cache folder)")
	timestamps := fs.Bool("timestamps", true, "record GPU timestamps around compute passes for the KERNEL column (adapters with timestamp queries)")
	asJSON := fs.Bool("json", false, "print one JSON object on stdout instead of the table")
	csvPath := fs.String("csv", "", "also write the results as CSV to `FILE`")
	plotPath := fs.String("plot", "", "also write a PNG of samples/s against batch size to `FILE`")
	verifyOn := fs.Bool("verify", true, verifyHelp)
	if err := parse(fs, args); err != nil {
		return err
	}
	csvOut := output{flag: "csv", path: *csvPath, what: "the results"}
	plotOut := output{flag: "plot", path: *plotPath, what: "the plot"}
	if err := checkOutputs(nil, csvOut, plotOut); err != nil {
		return err
	}
	cfg := benchrun.Config{Seed: *seed, Steps: *steps, Reps: *reps, MaxSteps: *maxSteps,
		RepTarget: time.Duration(*repSeconds * float64(time.Second)), Autotune: *autotune, Timestamps: *timestamps, Log: e.stderr,
		Verify: func(b backend.Backend) error { return verifyDevice(e, b, *verifyOn) }}
	for _, d := range strings.Split(*devices, ",") {
		d = strings.TrimSpace(d)
		if err := checkDevice(d); err != nil {
			return err
		}
		cfg.Devices = append(cfg.Devices, d)
	}
	if *steps < 0 || *reps < 1 || *repSeconds <= 0 || *maxSteps < 1 {
		return usagef("--steps must be ≥ 0, --reps and --max-steps ≥ 1, --rep-seconds > 0")
	}
	switch *preset {
	case "seed":
		cfg.Preset = "seed"
		if !setFlags(fs)["reps"] {
			cfg.Reps = 1
		}
	case "":
		if *models < 1 {
			return usagef("--models must be ≥ 1")
		}
		if err := benchWorkload(&cfg, *batches, *hidden, *dataName, *activation, *optimizer, *lr); err != nil {
			return err
		}
		cfg.Spec.Models = *models
	default:
		return usagef("unknown --preset %q (want seed)", *preset)
	}
	rep, err := runBenchInterruptibly(e, cfg)
	if err != nil {
		return err
	}
	return writeBench(e, rep, *asJSON, csvOut, plotOut)
}

// runBenchInterruptibly runs benchrun.Run and returns its report, or, at
// Ctrl-C or SIGTERM, returns at once with exit status 130 and writes
// nothing: a measurement in progress (a long step) cannot be stopped
// midway, and the process exits without waiting for it.
func runBenchInterruptibly(e *env, cfg benchrun.Config) (*benchrun.Report, error) {
	type result struct {
		rep *benchrun.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := benchrun.Run(e.ctx, cfg)
		done <- result{rep, err}
	}()
	select {
	case r := <-done:
		if r.err == nil || e.ctx.Err() == nil {
			return r.rep, r.err
		}
	case <-e.ctx.Done():
	}
	fmt.Fprintln(e.stderr, "interrupted: the measurements so far are dropped, no output written")
	return nil, &exitError{code: 130}
}

// writeBench prints rep on stdout (as JSON with asJSON, else as the
// table) and writes csvOut and plotOut where they are asked for. An output
// that cannot be written where asked goes to a fallback path; the
// measurements are not lost.
func writeBench(e *env, rep *benchrun.Report, asJSON bool, csvOut, plotOut output) error {
	if asJSON {
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	} else if err := benchrun.WriteTable(e.stdout, rep); err != nil {
		return err
	}
	var rescued []error
	for _, o := range []struct {
		out   output
		write func(string) error
	}{
		{csvOut, writeFile(func(w io.Writer) error { return benchrun.WriteCSV(w, rep) })},
		{plotOut, func(p string) error { return benchrun.WritePlot(p, rep) }},
	} {
		if o.out.path == "" {
			continue
		}
		p, err := writeOutput(o.out, o.write)
		if p == "" {
			return fmt.Errorf("--%s %s: %w", o.out.flag, o.out.path, err)
		}
		if err != nil {
			rescued = append(rescued, err)
		}
	}
	return errors.Join(rescued...)
}

// benchWorkload fills in the network, the data and the batch sizes of a
// sweep from the flags.
func benchWorkload(cfg *benchrun.Config, batches, hidden, dataName, activation, optimizer string, lr float64) error {
	var err error
	if cfg.Batches, err = parseInts("batch", batches, 1); err != nil {
		return err
	}
	if len(cfg.Batches) == 0 {
		return usagef("--batch: need at least one batch size")
	}
	widths, err := parseInts("hidden", hidden, 1)
	if err != nil {
		return err
	}
	act, err := backend.ParseActivation(activation)
	if err != nil || act == backend.Identity {
		return usagef("--activation %q: want sigmoid, relu or tanh", activation)
	}
	opt, err := nn.ParseOptimizer(optimizer)
	if err != nil {
		return usagef("--optimizer %q: want sgd, momentum or adam", optimizer)
	}
	if err := checkLR(lr); err != nil {
		return err
	}
	var d *nn.Set
	classes := 10
	if strings.EqualFold(dataName, "random") {
		d = benchstep.RandomData(10000, 784, classes, 7)
		cfg.DataName = "random pixels, 10000x784, 10 classes (benchstep.RandomData)"
	} else {
		split, err := loadData(dataName, nil)
		if err != nil {
			return err
		}
		if d, classes, err = benchData(split.Train); err != nil {
			return err
		}
		cfg.DataName = fmt.Sprintf("%s: %d rows x %d features, %d classes", split.Train.Name, d.Rows, d.Cols, classes)
	}
	head, out := nn.HeadFor(d)
	cfg.Data = d
	cfg.Spec = benchstep.Spec{Model: nn.Spec{Inputs: d.Cols, Hidden: widths, Outputs: out, Activation: act, Head: head},
		Optimizer: opt, LR: lr}
	return nil
}

// benchData checks that s is a classification set, which bench trains on.
func benchData(s *data.Set) (*nn.Set, int, error) {
	if s.Classes < 2 || max(s.Outputs, 1) != 1 {
		return nil, 0, usagef("--data %s: bench needs a classification set (got %d classes, %d outputs)", s.Name, s.Classes, s.Outputs)
	}
	return s, s.Classes, nil
}
