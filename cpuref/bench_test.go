package cpuref_test

import (
	"testing"

	"github.com/gputrain/gputrain/bench/benchstep/benchtest"
	"github.com/gputrain/gputrain/cpuref"
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
