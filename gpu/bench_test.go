package gpu_test

import (
	"testing"

	"github.com/gputrain/gputrain/bench/benchstep/benchtest"
	"github.com/gputrain/gputrain/gpu"
	"github.com/gputrain/gputrain/gpu/gputest"
)

// Kernel benchmarks on the GPU backend (GPUTRAIN_TEST_DEVICE picks the
// adapter; without one they skip). Each records b.N operations and syncs
// once, so they measure what a training step sees: dispatch throughput.
// Where the adapter has timestamp queries they also report the GPU's own
// time ("kernel-us/op", and "kernel-GFLOP/s" for matmuls). The first 32
// operations after every sync are also timed on the host, recorded with the
// device idle and submitted without waiting ("host-us/op", "dispatches/op",
// "host-us/dispatch"; see benchstep.HostTime), and -benchmem counts the
// allocations of the whole loop, syncs included.
//
//	go test -run '^$' -bench . -benchtime 20x ./gpu
//	GPUTRAIN_BENCH_LARGE=1 go test -run '^$' -bench MatMul/square ./gpu

// BenchmarkMatMul: square sizes and the MLP's own shapes, in GFLOP/s.
func BenchmarkMatMul(b *testing.B) { benchtest.BenchMatMuls(b, timed(b)) }

// BenchmarkElementwise: bias+activation, SGD, Adam, column sum and the
// softmax loss, in GB/s.
func BenchmarkElementwise(b *testing.B) { benchtest.BenchElementwise(b, timed(b)) }

// BenchmarkFusions: each fused operation of the step against the
// operations it replaces (compare kernel-us/op within a pair).
func BenchmarkFusions(b *testing.B) { benchtest.BenchFusions(b, timed(b)) }

// BenchmarkTrainStep: whole training steps, in GFLOP/s and samples/s.
func BenchmarkTrainStep(b *testing.B) { benchtest.BenchTrainStep(b, timed(b)) }

// timed opens the test adapter with timestamp queries on.
func timed(b *testing.B) *gpu.Backend {
	return gputest.OpenWith(b, gpu.Options{Device: gputest.Device(), Timestamps: true})
}
