package benchstep

import (
	"math"
	"sort"
	"testing"
	"time"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/nn"
)

func TestFLOPsPerSample(t *testing.T) {
	s := Spec{Model: nn.Spec{Inputs: 784, Hidden: []int{128, 64}, Outputs: 10}}
	want := 2*784*128.0 + 2*784*128 + 6*(128*64+64*10.0)
	if got := s.FLOPsPerSample(); got != want {
		t.Fatalf("FLOPsPerSample = %v, want %v", got, want)
	}
}

func TestSeedDataBalanced(t *testing.T) {
	d := SeedData()
	ones := 0.0
	for _, l := range d.Labels {
		ones += l
	}
	if ones < 100 || ones > 260 {
		t.Fatalf("%v of %d labels are 1", ones, d.Rows)
	}
}

// TestSeedLearns checks that the seed preset's step trains on the CPU
// reference, and that a minibatch softmax network steps without error.
func TestSeedLearns(t *testing.T) {
	b := cpuref.New()
	spec := SeedSpec()
	spec.LR = 0.2
	m, err := New(b, spec, SeedData(), 0, SeedInitSeed)
	if err == nil {
		t.Fatal("batch 0 accepted")
	}
	m, err = New(b, spec, SeedData(), 1<<20, SeedInitSeed)
	if err != nil {
		t.Fatal(err)
	}
	if !m.FullBatch() || m.Batch() != SeedRows {
		t.Fatalf("full batch %v, batch %d", m.FullBatch(), m.Batch())
	}
	l0, _, err := m.Final()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run(1000); err != nil {
		t.Fatal(err)
	}
	l1, acc, err := m.Final()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loss %.4f -> %.4f, accuracy %.3f", l0, l1, acc)
	if !(l1 < 0.9*l0) || math.IsNaN(l1) {
		t.Fatalf("did not learn: %v -> %v", l0, l1)
	}
	m.Free()
	if b.Live() != 0 {
		t.Fatalf("%d tensors live after Free", b.Live())
	}

	sm := Spec{Model: nn.Spec{Inputs: 20, Hidden: []int{16}, Outputs: 4, Activation: backend.ReLU, Head: nn.SoftmaxHead}, Optimizer: nn.Adam, LR: 0.01}
	m, err = New(b, sm, RandomData(100, 20, 4, 1), 32, 1)
	if err != nil {
		t.Fatal(err)
	}
	tm, err := Measure(m, 0, 3, time.Millisecond, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(tm.PerStep) != 3 || tm.Steps < 1 || tm.Min > tm.Median || tm.Median > tm.Max {
		t.Fatalf("timing %+v", tm)
	}
}

// fakeTimer is the CPU reference with a kernel timer that reports a fixed
// time per Sync since the last reset (or none, when ok is false).
type fakeTimer struct {
	*cpuref.Backend
	ok     bool
	per    time.Duration // per Sync
	syncs  int
	resets int
}

func (f *fakeTimer) Sync() error      { f.syncs++; return f.Backend.Sync() }
func (f *fakeTimer) ResetKernelTime() { f.syncs = 0; f.resets++ }
func (f *fakeTimer) KernelTime() (time.Duration, bool) {
	if !f.ok {
		return 0, false
	}
	return time.Duration(f.syncs) * f.per, true
}

// TestMeasureKernelTime checks that Measure takes each repetition's kernel
// time from a KernelTimer backend, per step, and none from one that
// measures none or from a backend that is no KernelTimer.
func TestMeasureKernelTime(t *testing.T) {
	spec := Spec{Model: nn.Spec{Inputs: 8, Hidden: []int{4}, Outputs: 2, Activation: backend.Tanh, Head: nn.SoftmaxHead}, Optimizer: nn.SGD, LR: 0.1}
	tests := []struct {
		name  string
		b     func() backend.Backend
		want  []float64
		reset int
	}{
		{"timer", func() backend.Backend { return &fakeTimer{Backend: cpuref.New(), ok: true, per: 40 * time.Millisecond} },
			[]float64{0.01, 0.01, 0.01}, 3}, // one sync of 40 ms over 4 steps
		{"timer without timestamps", func() backend.Backend { return &fakeTimer{Backend: cpuref.New()} }, nil, 3},
		{"no timer", func() backend.Backend { return cpuref.New() }, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b()
			m, err := New(b, spec, RandomData(40, 8, 2, 1), 4, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Free()
			tm, err := Measure(m, 4, 3, time.Millisecond, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(tm.KernelPerStep) != len(tt.want) {
				t.Fatalf("KernelPerStep %v, want %v", tm.KernelPerStep, tt.want)
			}
			for i := range tt.want {
				if math.Abs(tm.KernelPerStep[i]-tt.want[i]) > 1e-12 {
					t.Fatalf("KernelPerStep %v, want %v", tm.KernelPerStep, tt.want)
				}
			}
			if tt.want != nil && tm.KernelMedian != tt.want[0] {
				t.Errorf("KernelMedian %v", tm.KernelMedian)
			}
			if f, ok := b.(*fakeTimer); ok && f.resets != tt.reset {
				t.Errorf("%d resets, want one a repetition", f.resets)
			}
		})
	}
}

// fakeRecorder is the CPU reference as a Recorder: it counts flushes, and
// every SGD call as one dispatch.
type fakeRecorder struct {
	*cpuref.Backend
	flushes, sgd int
}

func (f *fakeRecorder) Flush() error       { f.flushes++; return nil }
func (f *fakeRecorder) Dispatches() uint64 { return uint64(f.sgd) }
func (f *fakeRecorder) SGD(w, g, hp, decay backend.Tensor) {
	f.sgd++
	f.Backend.SGD(w, g, hp, decay)
}

// TestMeasureHostTime checks that Measure host-times the first HostSteps
// steps of every repetition on a Recorder, submits them once, and counts
// their dispatches per step; a backend that is no Recorder gets none.
func TestMeasureHostTime(t *testing.T) {
	spec := Spec{Model: nn.Spec{Inputs: 8, Hidden: []int{4}, Outputs: 2, Activation: backend.Tanh, Head: nn.SoftmaxHead}, Optimizer: nn.SGD, LR: 0.1}
	for _, steps := range []int{3, HostSteps + 5} {
		f := &fakeRecorder{Backend: cpuref.New()}
		m, err := New(f, spec, RandomData(40, 8, 2, 1), 4, 1)
		if err != nil {
			t.Fatal(err)
		}
		before := f.sgd
		m.Step()
		perStep := f.sgd - before
		tm, err := Measure(m, steps, 3, time.Millisecond, 10)
		m.Free()
		if err != nil {
			t.Fatal(err)
		}
		if len(tm.HostPerStep) != 3 || f.flushes != 3 {
			t.Fatalf("%d steps: host times %v after %d flushes, want 3 of each", steps, tm.HostPerStep, f.flushes)
		}
		for _, h := range tm.HostPerStep {
			if !(h > 0) {
				t.Errorf("%d steps: host time %v s per step", steps, h)
			}
		}
		if tm.HostMedian != Quantile(sorted(tm.HostPerStep), 0.5) {
			t.Errorf("HostMedian %v of %v", tm.HostMedian, tm.HostPerStep)
		}
		if tm.DispatchesPerStep != float64(perStep) {
			t.Errorf("%v dispatches per step, want %d", tm.DispatchesPerStep, perStep)
		}
	}
	m, err := New(cpuref.New(), spec, RandomData(40, 8, 2, 1), 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Free()
	tm, err := Measure(m, 4, 2, time.Millisecond, 10)
	if err != nil {
		t.Fatal(err)
	}
	if tm.HostPerStep != nil || tm.HostMedian != 0 || tm.DispatchesPerStep != 0 {
		t.Errorf("host timing %v %v %v on a backend that runs each operation at once", tm.HostPerStep, tm.HostMedian, tm.DispatchesPerStep)
	}
}

func sorted(s []float64) []float64 {
	s = append([]float64(nil), s...)
	sort.Float64s(s)
	return s
}
