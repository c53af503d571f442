package cpuref_test

import (
	"fmt"
	"testing"

	"github.com/gputrain/gputrain/bench/benchstep"
	"github.com/gputrain/gputrain/bench/benchstep/benchtest"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/nn"
)

// Kernel benchmarks on the float64 CPU reference (the --device cpu backend),
// the same bodies as package gpu's:
//
//	go test -run '^$' -bench . ./cpuref

// BenchmarkMatMul: square sizes and the MLP's own shapes, in GFLOP/s.
func BenchmarkMatMul(b *testing.B) { benchtest.BenchMatMuls(b, cpuref.New()) }

// BenchmarkElementwise: bias+activation, SGD, Adam, column sum and the
// softmax loss, in GB/s.
func BenchmarkElementwise(b *testing.B) { benchtest.BenchElementwise(b, cpuref.New()) }

// BenchmarkFusions: each fused operation of the step against the
// operations it replaces (on the CPU the fused ones are those in sequence).
func BenchmarkFusions(b *testing.B) { benchtest.BenchFusions(b, cpuref.New()) }

// BenchmarkTrainStep: whole training steps, in GFLOP/s and samples/s.
func BenchmarkTrainStep(b *testing.B) { benchtest.BenchTrainStep(b, cpuref.New()) }

// BenchmarkStepMLP: whole training steps of 784-128-64-10 (sigmoid,
// softmax cross-entropy, SGD) at batch 64 and 1024 on random pixels, for
// profiling the step:
//
//	go test -run '^$' -bench StepMLP -cpuprofile cpu.out ./cpuref && go tool pprof -top cpu.out
func BenchmarkStepMLP(b *testing.B) {
	spec := benchtest.MLPSpec(nn.SGD)
	d := benchstep.RandomData(4096, 784, 10, 7)
	for _, batch := range []int{64, 1024} {
		b.Run(fmt.Sprintf("batch_%d", batch), func(b *testing.B) { benchSteps(b, spec, d, batch, 1) })
	}
}

// BenchmarkSeedStep: whole training steps of the seed preset (64-128-128-1
// sigmoid, binary cross-entropy, full batch of 360 rows, SGD), for
// profiling the step the numpy peer is measured on:
//
//	go test -run '^$' -bench SeedStep -cpu 1 -cpuprofile cpu.out ./cpuref && go tool pprof -top cpu.out
func BenchmarkSeedStep(b *testing.B) {
	d := benchstep.SeedData()
	benchSteps(b, benchstep.SeedSpec(), d, d.Rows, benchstep.SeedInitSeed)
}

// benchSteps times whole training steps of spec on d, batch rows a step,
// on the reference backend, with its allocations and GFLOP/s.
func benchSteps(b *testing.B, spec benchstep.Spec, d *nn.Set, batch int, seed uint64) {
	m, err := benchstep.New(cpuref.New(), spec, d, batch, seed)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(m.Free)
	b.ReportAllocs()
	for b.Loop() {
		m.Step()
	}
	b.ReportMetric(m.FLOPsPerStep()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
