package benchstep

import (
	"sort"
	"time"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/nn"
)

// The seed preset is the classic numpy-tutorial workload: a 64-128-128-1
// sigmoid MLP with binary cross-entropy, trained by full-batch gradient
// descent (lr 0.01, 10001 steps) on 360 samples of 64 features (the size of
// scikit-learn's digits 0 and 1). The data here are generated, not loaded:
// see SeedData.
const (
	SeedRows  = 360
	SeedCols  = 64
	SeedSteps = 10001
	SeedLR    = 0.01
	// SeedDataSeed and SeedInitSeed seed SeedData and the weights;
	// bench/numpy_mlp.py uses the same values and the same generator.
	SeedDataSeed = 2024
	SeedInitSeed = 1
)

// SeedSpec is the seed preset's network.
func SeedSpec() Spec {
	return Spec{Model: nn.Spec{Inputs: SeedCols, Hidden: []int{128, 128}, Outputs: 1, Activation: backend.Sigmoid,
		Head: nn.BinaryHead}, Optimizer: nn.SGD, LR: SeedLR}
}

// SeedData generates the seed preset's 360×64 data set deterministically:
// each feature is an 8×8 "pixel" k/16 with k uniform in 0..16 (drawn with
// RNG(SeedDataSeed), row by row), and the label is 1 when the two centre
// columns of the 8×8 image (3 and 4) are brighter on average than the four
// outer ones (0, 1, 6, 7): 2·Σcentre > Σouter, in integers. The rule is
// learnable by the MLP and the classes are roughly balanced.
func SeedData() *nn.Set {
	r := NewRNG(SeedDataSeed)
	d := &nn.Set{Name: "seed preset data", Rows: SeedRows, Cols: SeedCols, Outputs: 1, Classes: 2,
		Features: make([]float64, SeedRows*SeedCols), Labels: make([]float64, SeedRows)}
	for i := 0; i < SeedRows; i++ {
		centre, outer := 0, 0
		for j := 0; j < SeedCols; j++ {
			k := int(r.Uint64() % 17)
			d.Features[i*SeedCols+j] = float64(k) / 16
			switch j % 8 {
			case 3, 4:
				centre += k
			case 0, 1, 6, 7:
				outer += k
			}
		}
		if 2*centre > outer {
			d.Labels[i] = 1
		}
	}
	return d
}

// RandomData generates rows samples of random pixels with labels from a
// fixed rule, for benchmarks that need no real data set: classes > 1 gives
// a class index (the brightest of classes column bands), classes == 1 a 0/1
// label. The pixels are bytes, scaled by 1/255 as they are gathered.
func RandomData(rows, cols, classes int, seed uint64) *nn.Set {
	r := NewRNG(seed)
	bands := max(classes, 2)
	d := &nn.Set{Name: "random pixels", Rows: rows, Cols: cols, Outputs: 1, Classes: bands,
		Pixels: make([]byte, rows*cols), Labels: make([]float64, rows)}
	for i := 0; i < rows; i++ {
		sums := make([]int, bands)
		for j := 0; j < cols; j++ {
			v := byte(r.Uint64())
			d.Pixels[i*cols+j] = v
			sums[j*bands/cols] += int(v)
		}
		best := 0
		for c, s := range sums {
			if s > sums[best] {
				best = c
			}
		}
		d.Labels[i] = float64(best)
	}
	return d
}

// Timing is the outcome of Measure.
type Timing struct {
	// Steps is the number of steps per repetition.
	Steps int
	// PerStep holds each repetition's seconds per step, in run order.
	PerStep []float64
	// Median, Min, Max, Q1 and Q3 summarise PerStep.
	Median, Min, Max, Q1, Q3 float64
	// WarmupSeconds is the time of the warm-up (pipeline compilation,
	// autotuning and first-touch allocation land here).
	WarmupSeconds float64
	// SyncsPerRep is 1 unless a repetition would queue more than
	// MaxSyncSeconds of work (see RunChunked).
	SyncsPerRep int
	// KernelPerStep holds each repetition's GPU kernel seconds per step,
	// in run order, and KernelMedian their median, when the backend is a
	// KernelTimer that measures kernel time; else nil and 0.
	KernelPerStep []float64
	KernelMedian  float64
	// HostPerStep holds each repetition's host seconds per step, in run
	// order, and HostMedian their median, when the backend is a Recorder:
	// the time to record the repetition's first HostSteps steps with the
	// device idle and submit them, waits excluded (see HostTime); else nil
	// and 0. DispatchesPerStep is the number of dispatches those steps
	// recorded, per step.
	HostPerStep       []float64
	HostMedian        float64
	DispatchesPerStep float64
}

// Recorder is a backend that records work and runs it later, as gpu.Backend
// does: the host's side of a step (recording, encoding, submitting) can then
// be timed apart from the device's.
type Recorder interface {
	// Flush submits the work recorded so far without waiting for it.
	Flush() error
	// Dispatches returns the number of dispatches recorded so far.
	Dispatches() uint64
}

// HostSteps is how many steps at the start of a synced run Measure and the
// go test benchmarks time on the host (see HostTime): with the device idle
// and, on any step of up to 32 dispatches, within one submit.
const HostSteps = 32

// HostTime calls op n times on rec, which should have nothing queued, then
// submits what they recorded (Flush), and returns the host time that took
// and the number of dispatches recorded. The device is not waited for, so
// the time is the host's alone: recording, encoding and the submit.
func HostTime(rec Recorder, n int, op func()) (time.Duration, uint64, error) {
	d0 := rec.Dispatches()
	start := time.Now()
	for range n {
		op()
	}
	err := rec.Flush()
	el := time.Since(start)
	return el, rec.Dispatches() - d0, err
}

// KernelTimer is a backend that measures the GPU time of its kernels, as
// gpu.Backend does when opened with gpu.Options.Timestamps.
type KernelTimer interface {
	// KernelTime returns the kernel time of the work synced since the
	// last ResetKernelTime; ok is false when the backend measures none.
	KernelTime() (d time.Duration, ok bool)
	// ResetKernelTime sets the kernel time to zero.
	ResetKernelTime()
}

// Measure times m: one warm-up step (synced), one calibration step (synced)
// that, when steps is 0, sets steps so that a repetition takes about target
// (at least 1 step, at most maxSteps), then reps repetitions of steps steps,
// each synced once at its end (or every MaxSyncSeconds of work, see
// RunChunked, when an explicit steps would queue more). When the backend
// is a KernelTimer that measures kernel time, each repetition's kernel time
// is taken too (the reset lies outside the timed region); when it is a
// Recorder, each repetition's first HostSteps steps are also host-timed
// (HostTime), which adds one submit to the repetition.
func Measure(m *Workload, steps, reps int, target time.Duration, maxSteps int) (Timing, error) {
	var t Timing
	start := time.Now()
	if err := m.Run(1); err != nil {
		return t, err
	}
	t.WarmupSeconds = time.Since(start).Seconds()
	start = time.Now()
	if err := m.Run(1); err != nil {
		return t, err
	}
	one := time.Since(start).Seconds()
	if steps <= 0 {
		steps = int(target.Seconds() / max(one, 1e-9))
		steps = min(max(steps, 1), maxSteps)
	}
	t.Steps = steps
	kt, timed := m.b.(KernelTimer)
	rec, deferred := m.b.(Recorder)
	perSync := PerSync(one)
	for range max(reps, 1) {
		if timed {
			kt.ResetKernelTime()
		}
		start = time.Now()
		first := min(steps, perSync) // the steps before the first sync
		if deferred {
			k := min(first, HostSteps)
			host, n, err := HostTime(rec, k, m.Step)
			if err != nil {
				return t, err
			}
			t.HostPerStep = append(t.HostPerStep, host.Seconds()/float64(k))
			t.DispatchesPerStep = float64(n) / float64(k)
			first -= k
		}
		if err := m.Run(first); err != nil {
			return t, err
		}
		syncs, err := m.RunChunked(steps-min(steps, perSync), perSync)
		if err != nil {
			return t, err
		}
		t.PerStep = append(t.PerStep, time.Since(start).Seconds()/float64(steps))
		t.SyncsPerRep = syncs + 1
		if timed {
			if d, ok := kt.KernelTime(); ok {
				t.KernelPerStep = append(t.KernelPerStep, d.Seconds()/float64(steps))
			}
		}
	}
	s := append([]float64(nil), t.PerStep...)
	sort.Float64s(s)
	t.Min, t.Max = s[0], s[len(s)-1]
	t.Median, t.Q1, t.Q3 = Quantile(s, 0.5), Quantile(s, 0.25), Quantile(s, 0.75)
	if len(t.KernelPerStep) == len(t.PerStep) {
		k := append([]float64(nil), t.KernelPerStep...)
		sort.Float64s(k)
		t.KernelMedian = Quantile(k, 0.5)
	} else {
		t.KernelPerStep = nil // not measured in every repetition
	}
	if len(t.HostPerStep) > 0 {
		h := append([]float64(nil), t.HostPerStep...)
		sort.Float64s(h)
		t.HostMedian = Quantile(h, 0.5)
	}
	return t, nil
}

// Quantile returns the q-quantile of sorted s by linear interpolation.
func Quantile(s []float64, q float64) float64 {
	if len(s) == 0 {
		return 0
	}
	p := q * float64(len(s)-1)
	i := int(p)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (p-float64(i))*(s[i+1]-s[i])
}
