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
