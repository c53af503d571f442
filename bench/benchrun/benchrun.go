// Package benchrun runs gputrain's batch-size benchmark: for each device and
// batch size it times the training step of package benchstep and reports
// step time, throughput, achieved GFLOP/s and memory, as a table, JSON, CSV
// or a plot. The gputrain bench command is a thin flag layer over it.
package benchrun

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/bench/benchstep"
	"github.com/gputrain/gputrain/device"
	"github.com/gputrain/gputrain/gpu"
	"github.com/gputrain/gputrain/nn"
)

// Config is one benchmark run.
type Config struct {
	// Devices are --device choices: cpu, auto, gpu, software, vulkan, ...
	Devices []string
	// Batches are the batch sizes of the sweep.
	Batches []int
	// Spec is the network and update rule.
	Spec benchstep.Spec
	// Data is the resident data set (a classification set); DataName
	// describes it.
	Data     *nn.Set
	DataName string
	// Steps per repetition; 0 chooses them so that a repetition takes
	// about RepTarget (at most MaxSteps).
	Steps     int
	Reps      int
	RepTarget time.Duration
	MaxSteps  int
	// Autotune turns on the GPU backend's matmul autotuner.
	Autotune bool
	// Timestamps records GPU timestamps (gpu.Options.Timestamps), which
	// fill Result.KernelSeconds on adapters with timestamp queries.
	Timestamps bool
	// Seed seeds the weights and the minibatch order.
	Seed uint64
	// Preset is "" (the sweep) or "seed" (the classic tutorial workload,
	// timed end to end; Batches, Spec and Data are then ignored).
	Preset string
	// Log receives progress lines (may be nil).
	Log io.Writer
	// Verify, if not nil, is called with each device's backend once, after
	// it is opened and before anything is measured on it (the command
	// line's verification on first use); its error stops the run.
	Verify func(backend.Backend) error
}

// Result is one (device, batch) measurement.
type Result struct {
	Device      string `json:"device"`
	Backend     string `json:"backend"`
	Adapter     string `json:"adapter"`
	AdapterType string `json:"adapter_type"`
	API         string `json:"api"`
	Precision   string `json:"precision"`
	Batch       int    `json:"batch"`
	FullBatch   bool   `json:"full_batch,omitempty"`
	Steps       int    `json:"steps_per_rep"`
	Reps        int    `json:"reps"`
	// SyncsPerRep is how often a repetition waited for the device: 1,
	// unless it would have queued more than benchstep.MaxSyncSeconds.
	SyncsPerRep int `json:"syncs_per_rep"`

	StepSecondsMedian float64   `json:"step_seconds_median"`
	StepSecondsMin    float64   `json:"step_seconds_min"`
	StepSecondsMax    float64   `json:"step_seconds_max"`
	StepSecondsQ1     float64   `json:"step_seconds_q1"`
	StepSecondsQ3     float64   `json:"step_seconds_q3"`
	StepSecondsReps   []float64 `json:"step_seconds_reps"`
	SamplesPerSecond  float64   `json:"samples_per_second"`
	// Models is the number of models each step trains (benchstep.Spec's
	// Models; 1 for one model), and ModelSamplesPerSecond is Models times
	// SamplesPerSecond: the rows of all the models' steps per second.
	Models                int     `json:"models"`
	ModelSamplesPerSecond float64 `json:"model_samples_per_second"`
	FLOPsPerStep          float64 `json:"flops_per_step"`
	GFLOPS                float64 `json:"gflops"`
	// KernelSeconds is the median over repetitions of the GPU kernel time
	// per step, from timestamp queries around each compute pass; null
	// (n/a) when the backend records none: the CPU backend, adapters
	// without timestamp queries (GL), or Config.Timestamps off.
	// KernelSecondsReps holds each repetition's value, in run order.
	KernelSeconds     *float64  `json:"kernel_seconds"`
	KernelSecondsReps []float64 `json:"kernel_seconds_reps,omitempty"`
	// HostSeconds is the median over repetitions of the host time to
	// record one step and submit it, waits excluded: each repetition's
	// first benchstep.HostSteps steps, recorded with the device idle
	// (benchstep.HostTime). DispatchesPerStep is the number of compute
	// dispatches a step records. Both are null on the CPU backend, which
	// runs each operation as it is called (its step time is host time).
	// HostSecondsReps holds each repetition's host time per step.
	HostSeconds       *float64  `json:"host_seconds"`
	HostSecondsReps   []float64 `json:"host_seconds_reps,omitempty"`
	DispatchesPerStep *float64  `json:"dispatches_per_step"`
	WarmupSeconds     float64   `json:"warmup_seconds"`
	// DeviceBytes is what the benchmark's tensors occupy on the device
	// (for the GPU: the backend's live bytes added by this configuration).
	DeviceBytes uint64 `json:"device_bytes"`
	// GPUPeakBytes is the GPU backend's Stats().PeakBytes so far (the
	// backend serves every batch size of a device, in order).
	GPUPeakBytes uint64 `json:"gpu_peak_bytes,omitempty"`
	// HostPeakRSSBytes is the process's peak resident set so far
	// (getrusage ru_maxrss); it only grows over a run.
	HostPeakRSSBytes uint64 `json:"host_peak_rss_bytes"`

	// Preset runs only: seconds end to end (device start-up, upload, every
	// step, the final read), start-up alone, and the final step's loss and
	// accuracy.
	WallSeconds    float64 `json:"wall_seconds,omitempty"`
	StartupSeconds float64 `json:"startup_seconds,omitempty"`
	FinalLoss      float64 `json:"final_loss,omitempty"`
	FinalAccuracy  float64 `json:"final_accuracy,omitempty"`

	// Skipped says why the configuration was not measured.
	Skipped string `json:"skipped,omitempty"`
}

// Report is a whole run.
type Report struct {
	Preset   string              `json:"preset,omitempty"`
	Workload string              `json:"workload"`
	Data     string              `json:"data"`
	Machine  Machine             `json:"machine"`
	Autotune map[string][]string `json:"autotune,omitempty"`
	Results  []Result            `json:"results"`
	Notes    []string            `json:"notes,omitempty"`
}

// Machine describes the host.
type Machine struct {
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
	OS        string `json:"os"`
	GoVersion string `json:"go_version"`
}

// HostMachine reads the CPU model from /proc/cpuinfo where there is one.
func HostMachine() Machine {
	m := Machine{CPU: "unknown", Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// Open opens the backend that choice names, as gputrain's --device does
// (package device: "cpu" is the float64 reference, "auto" the best
// hardware GPU or else the CPU backend, anything else a GPU adapter
// selected by gpu.Select). autotune and timestamps set the GPU backend's
// options of those names.
func Open(choice string, autotune, timestamps bool) (backend.Backend, error) {
	b, _, err := device.Open(choice, gpu.Options{Autotune: autotune, TuneCache: gpu.DefaultTuneCache(), Timestamps: timestamps})
	return b, err
}

func (c *Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

// Run measures every configuration. Errors opening a device or fitting a
// batch on it become skipped results with a note; Run returns an error only
// when the context is cancelled or Config.Verify fails.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.setDefaults()
	rep := newReport(cfg)
	seen := map[string]string{}
	for _, dev := range cfg.Devices {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		var err error
		if cfg.Preset == "seed" {
			err = seedDevice(rep, cfg, dev)
		} else {
			err = sweepDevice(ctx, rep, cfg, dev, seen)
		}
		if err != nil {
			return rep, err
		}
	}
	if len(rep.Autotune) == 0 {
		rep.Autotune = nil
	}
	return rep, nil
}

// setDefaults fills the zero Reps, RepTarget and MaxSteps.
func (c *Config) setDefaults() {
	c.Reps = max(c.Reps, 1)
	if c.RepTarget <= 0 {
		c.RepTarget = 250 * time.Millisecond
	}
	if c.MaxSteps <= 0 {
		c.MaxSteps = 1000
	}
}

// newReport returns the report of cfg, with no results yet.
func newReport(cfg Config) *Report {
	rep := &Report{Preset: cfg.Preset, Machine: HostMachine(), Autotune: map[string][]string{}}
	if cfg.Preset == "seed" {
		rep.Workload = benchstep.SeedSpec().String() + ", full batch"
		rep.Data = fmt.Sprintf("seed preset: %dx%d generated (benchstep.SeedData)", benchstep.SeedRows, benchstep.SeedCols)
	} else {
		rep.Workload = cfg.Spec.String()
		rep.Data = cfg.DataName
	}
	return rep
}

// seedDevice adds the seed preset's result on dev to rep (a note too when
// it was skipped). Its error is cfg.Verify's.
func seedDevice(rep *Report, cfg Config, dev string) error {
	if err := verifySeparately(cfg, dev); err != nil {
		return err
	}
	r := runSeed(cfg, dev)
	rep.Results = append(rep.Results, r)
	if r.Skipped != "" {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: %s", dev, r.Skipped))
	}
	return nil
}

// sweepDevice adds the batch sweep's results on dev to rep: skipped when
// dev does not open, left out with a note when it is the same backend as
// an earlier device (seen maps a backend's description to the first
// device that named it). Its error is ctx's or cfg.Verify's.
func sweepDevice(ctx context.Context, rep *Report, cfg Config, dev string, seen map[string]string) error {
	b, err := Open(dev, cfg.Autotune, cfg.Timestamps)
	if err != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("--device %s: skipped: %v", dev, err))
		rep.Results = append(rep.Results, Result{Device: dev, Skipped: err.Error()})
		return nil
	}
	info := b.Info()
	if prev, ok := seen[info.String()]; ok {
		rep.Notes = append(rep.Notes, fmt.Sprintf("--device %s is the same backend as --device %s (%s): not measured twice", dev, prev, info))
		_ = b.Close()
		return nil
	}
	seen[info.String()] = dev
	cfg.logf("device %s: %s", dev, info)
	if cfg.Verify != nil {
		if err := cfg.Verify(b); err != nil {
			_ = b.Close()
			return err
		}
	}
	lastBatch, lastStep := 0, 0.0
	for _, batch := range cfg.Batches {
		if err := ctx.Err(); err != nil {
			_ = b.Close()
			return err
		}
		r := sweepBatch(cfg, b, dev, batch, lastBatch, lastStep)
		if r.Skipped == "" {
			lastBatch, lastStep = r.Batch, r.StepSecondsMedian
		}
		addBatch(rep, cfg, dev, batch, r)
	}
	if g, ok := b.(*gpu.Backend); ok {
		if log := g.TuneLog(); len(log) > 0 {
			rep.Autotune[dev] = log
		}
	}
	if err := b.Close(); err != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: close: %v", dev, err))
	}
	return nil
}

// sweepBatch measures batch on b (device dev), or skips it on a GPU when
// its step, scaled from the last measured one (lastStep seconds at
// lastBatch; lastBatch 0 when there is none), would exceed
// MaxGPUStepSeconds.
func sweepBatch(cfg Config, b backend.Backend, dev string, batch, lastBatch int, lastStep float64) Result {
	if pred := lastStep * float64(batch) / float64(max(lastBatch, 1)); b.Info().Kind == "gpu" && lastBatch > 0 && pred > MaxGPUStepSeconds {
		r := baseResult(dev, b)
		r.Batch = batch
		r.Skipped = fmt.Sprintf("one step would take about %.1f s (scaled from batch %d); wgpu's blocking poll in binding v0.23.0 gives up after 5 s and the process then crashes, so steps over %.1f s are not run", pred, lastBatch, MaxGPUStepSeconds)
		return r
	}
	return measureOne(cfg, b, dev, batch)
}

// addBatch adds r, the result of batch on dev, to rep (a note too when it
// was skipped) and logs it.
func addBatch(rep *Report, cfg Config, dev string, batch int, r Result) {
	if r.Skipped != "" {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s batch %d: skipped: %s", dev, batch, r.Skipped))
		cfg.logf("  batch %6d: skipped: %s", batch, r.Skipped)
	} else {
		cfg.logf("  batch %6d: %s/step (%d steps x %d reps), %.0f samples/s, %.2f GFLOP/s, kernel %s",
			batch, Dur(r.StepSecondsMedian), r.Steps, r.Reps, r.SamplesPerSecond, r.GFLOPS, kernel(r))
	}
	rep.Results = append(rep.Results, r)
}

// verifySeparately runs cfg.Verify on a backend of its own for dev, for
// the seed preset, whose timed runs open the device themselves. A device
// that does not open is left to the preset, which reports it skipped.
func verifySeparately(cfg Config, dev string) error {
	if cfg.Verify == nil {
		return nil
	}
	b, err := Open(dev, cfg.Autotune, false)
	if err != nil {
		return nil
	}
	defer b.Close()
	return cfg.Verify(b)
}

// MaxGPUStepSeconds is the longest predicted GPU step the sweep runs: a
// single step is one sync, and a sync that waits more than 5 s crashes the
// process (see benchstep.MaxSyncSeconds). Only software adapters get near it.
const MaxGPUStepSeconds = 1.5

func baseResult(dev string, b backend.Backend) Result {
	info := b.Info()
	return Result{Device: dev, Backend: info.Kind, Adapter: info.Adapter, AdapterType: info.AdapterType,
		API: info.API, Precision: info.Precision}
}

// fits checks the largest tensors of a configuration against a GPU's
// binding limit, so that an oversized batch is skipped with a clear note
// rather than failing half-way through allocation.
func fits(b backend.Backend, spec benchstep.Spec, d *nn.Set, batch int) error {
	g, ok := b.(*gpu.Backend)
	if !ok {
		return nil
	}
	limit := g.MaxTensorBytes()
	widest := 0
	for _, n := range spec.Model.Sizes() {
		widest = max(widest, n)
	}
	check := func(what string, bytes uint64) error {
		if bytes > limit {
			return fmt.Errorf("%s needs %d MiB, more than the adapter's %d MiB storage-binding limit", what, bytes>>20, limit>>20)
		}
		return nil
	}
	dataBytes := uint64(d.Rows) * uint64(d.Cols) * 4
	if d.Pixels != nil {
		dataBytes = uint64(d.Rows) * uint64(d.Cols)
	}
	if err := check("the resident data set", dataBytes); err != nil {
		return err
	}
	return check(fmt.Sprintf("a %dx%d activation", batch, widest), uint64(batch)*uint64(widest)*4)
}

func liveBytes(b backend.Backend) (live, peak uint64) {
	if g, ok := b.(*gpu.Backend); ok {
		s := g.Stats()
		return s.LiveBytes, s.PeakBytes
	}
	return 0, 0
}

func measureOne(cfg Config, b backend.Backend, dev string, batch int) Result {
	r := baseResult(dev, b)
	r.Batch = batch
	if err := fits(b, cfg.Spec, cfg.Data, batch); err != nil {
		r.Skipped = err.Error()
		return r
	}
	before, _ := liveBytes(b)
	m, err := benchstep.New(b, cfg.Spec, cfg.Data, batch, cfg.Seed)
	if err != nil {
		r.Skipped = err.Error()
		return r
	}
	defer m.Free()
	r.Batch, r.FullBatch = m.Batch(), m.FullBatch()
	if live, _ := liveBytes(b); live > 0 {
		r.DeviceBytes = live - before
	} else {
		r.DeviceBytes = m.Bytes()
	}
	t, err := benchstep.Measure(m, cfg.Steps, cfg.Reps, cfg.RepTarget, cfg.MaxSteps)
	if err != nil {
		r.Skipped = "measurement failed: " + err.Error()
		return r
	}
	r.Models = m.Models()
	fill(&r, t, m.FLOPsPerStep())
	_, r.GPUPeakBytes = liveBytes(b)
	r.HostPeakRSSBytes = PeakRSS()
	return r
}

func fill(r *Result, t benchstep.Timing, flops float64) {
	r.Steps, r.Reps = t.Steps, len(t.PerStep)
	r.StepSecondsMedian, r.StepSecondsMin, r.StepSecondsMax = t.Median, t.Min, t.Max
	r.StepSecondsQ1, r.StepSecondsQ3 = t.Q1, t.Q3
	r.StepSecondsReps = t.PerStep
	r.WarmupSeconds = t.WarmupSeconds
	if t.SyncsPerRep > 0 {
		r.SyncsPerRep = t.SyncsPerRep
	}
	r.FLOPsPerStep = flops
	if t.KernelPerStep != nil {
		k := t.KernelMedian
		r.KernelSeconds, r.KernelSecondsReps = &k, t.KernelPerStep
	}
	if t.HostPerStep != nil {
		h, d := t.HostMedian, t.DispatchesPerStep
		r.HostSeconds, r.HostSecondsReps, r.DispatchesPerStep = &h, t.HostPerStep, &d
	}
	if t.Median > 0 {
		r.SamplesPerSecond = float64(r.Batch) / t.Median
		r.Models = max(r.Models, 1)
		r.ModelSamplesPerSecond = float64(r.Models) * r.SamplesPerSecond
		r.GFLOPS = flops / t.Median / 1e9
	}
}

// runSeed runs the seed preset on one device end to end: open the device,
// upload the data, run every step, read the final loss. Repetitions (Reps)
// repeat the whole thing, device start-up included.
func runSeed(cfg Config, dev string) Result {
	steps := cfg.Steps
	if steps <= 0 {
		steps = benchstep.SeedSteps
	}
	steps = max(steps, 2)
	var r Result
	var walls, per, startups, kernels []float64
	for rep := range cfg.Reps {
		sr, openErr, err := seedRep(cfg, dev, steps, rep == 0, &r)
		if openErr != nil {
			return Result{Device: dev, Skipped: openErr.Error()}
		}
		if sr.kernelOK {
			kernels = append(kernels, sr.kernel)
		}
		if err != nil {
			r.Skipped = "run failed: " + err.Error()
			return r
		}
		r.FinalLoss, r.FinalAccuracy = sr.loss, sr.acc
		walls = append(walls, sr.wall)
		startups = append(startups, sr.startup)
		per = append(per, sr.loop/float64(steps-1))
		cfg.logf("seed preset on %s: %d steps in %.3f s end to end (start-up %.3f s, %s/step), final loss %.6f, accuracy %.3f",
			dev, steps, sr.wall, sr.startup, Dur(sr.loop/float64(steps-1)), sr.loss, sr.acc)
	}
	seedTimes(&r, steps, walls, per, startups, kernels)
	return r
}

// seedRun is what one repetition of the seed preset measured: seconds end
// to end, of start-up and of the timed loop, the kernel time per step
// (when kernelOK) and the final loss and accuracy.
type seedRun struct {
	wall, startup, loop float64
	kernel              float64
	kernelOK            bool
	loss, acc           float64
}

// seedRep runs one repetition of the seed preset (steps steps) on dev. On
// the first repetition (first) it fills r's device, batch and memory
// fields; on every one, r's GPU peak. An error opening the device or
// building the model is openErr (r untouched); one of the run itself err.
func seedRep(cfg Config, dev string, steps int, first bool, r *Result) (sr seedRun, openErr, err error) {
	start := time.Now()
	b, err := Open(dev, cfg.Autotune, cfg.Timestamps)
	if err != nil {
		return sr, err, nil
	}
	m, err := benchstep.New(b, benchstep.SeedSpec(), benchstep.SeedData(), benchstep.SeedRows, benchstep.SeedInitSeed)
	if err != nil {
		_ = b.Close()
		return sr, err, nil
	}
	sr.startup = time.Since(start).Seconds()
	// The first step, synced, sizes the chunks between syncs (see
	// benchstep.RunChunked); it is part of the timed loop.
	kt, timed := b.(benchstep.KernelTimer)
	if timed {
		kt.ResetKernelTime()
	}
	loopStart := time.Now()
	err = m.Run(1)
	syncs := 1
	if err == nil {
		var n int
		n, err = m.RunChunked(steps-2, benchstep.PerSync(time.Since(loopStart).Seconds()))
		syncs += n
	}
	sr.loop = time.Since(loopStart).Seconds()
	if timed && err == nil {
		if d, ok := kt.KernelTime(); ok {
			sr.kernel, sr.kernelOK = d.Seconds()/float64(steps-1), true
		}
	}
	if err == nil {
		sr.loss, sr.acc, err = m.Final()
	}
	sr.wall = time.Since(start).Seconds()
	if first {
		*r = baseResult(dev, b)
		r.SyncsPerRep = syncs
		r.Batch, r.FullBatch = m.Batch(), true
		r.DeviceBytes = m.Bytes()
		if live, _ := liveBytes(b); live > 0 {
			r.DeviceBytes = live
		}
	}
	if g, ok := b.(*gpu.Backend); ok {
		r.GPUPeakBytes = g.Stats().PeakBytes
	}
	m.Free()
	_ = b.Close()
	return sr, nil, err
}

// seedTimes fills r's timings from the seed preset's repetitions (steps
// steps each): the medians and quartiles of their seconds per step (per)
// and, when every repetition has one, of their kernel time per step, and
// the medians of their seconds end to end and of start-up.
func seedTimes(r *Result, steps int, walls, per, startups, kernels []float64) {
	t := benchstep.Timing{Steps: steps, PerStep: per}
	if len(kernels) == len(per) {
		t.KernelPerStep, t.KernelMedian = kernels, benchstep.Quantile(sorted(kernels), 0.5)
	}
	s := sorted(per)
	t.Min, t.Max = s[0], s[len(s)-1]
	t.Median, t.Q1, t.Q3 = benchstep.Quantile(s, 0.5), benchstep.Quantile(s, 0.25), benchstep.Quantile(s, 0.75)
	fill(r, t, benchstep.SeedSpec().FLOPsPerSample()*float64(r.Batch))
	r.WallSeconds = benchstep.Quantile(sorted(walls), 0.5)
	r.StartupSeconds = benchstep.Quantile(sorted(startups), 0.5)
	r.HostPeakRSSBytes = PeakRSS()
}
