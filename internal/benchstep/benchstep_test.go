package benchstep

import (
	"math"
	"testing"
	"time"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
)

func TestFLOPsPerSample(t *testing.T) {
	s := Spec{Sizes: []int{784, 128, 64, 10}}
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

	sm := Spec{Sizes: []int{20, 16, 4}, Activation: backend.ReLU, Loss: backend.SoftmaxCrossEntropy, Optimizer: "adam", LR: 0.01}
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
	spec := Spec{Sizes: []int{8, 4, 2}, Activation: backend.Tanh, Loss: backend.SoftmaxCrossEntropy, Optimizer: "sgd", LR: 0.1}
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
