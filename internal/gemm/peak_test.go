//go:build amd64 && !purego

package gemm

import (
	"sync"
	"testing"

	"golang.org/x/sys/cpu"
)

// peakIters is the loop count of one fmaLoop call: long enough that the
// call costs nothing, short enough for b.Loop to time it many times.
const peakIters = 1 << 16

// BenchmarkPeak measures one core's float64 FMA throughput, in GFLOP/s (2
// flops per lane per fused multiply-add), with 4-wide (AVX2) and 8-wide
// (AVX-512F) instructions: the ceiling for BenchmarkDgemm's figures.
//
//	go test -run '^$' -bench Peak -count 5 ./internal/gemm
func BenchmarkPeak(b *testing.B) {
	for _, tc := range []struct {
		name  string
		lanes int
		ok    bool
		f     func(int)
	}{
		{"avx2_ymm", 4, cpu.X86.HasAVX2 && cpu.X86.HasFMA, fmaLoopY},
		{"avx512_zmm", 8, cpu.X86.HasAVX512F, fmaLoopZ},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if !tc.ok {
				b.Skip("not on this processor")
			}
			for b.Loop() {
				tc.f(peakIters)
			}
			flops := float64(b.N) * peakIters * 12 * float64(tc.lanes) * 2
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// peakPerCore measures, once, the FMA throughput in flops per CPU-second
// of the widest loop this processor runs (ZMM with AVX-512F, else YMM).
var peakPerCore = sync.OnceValue(func() float64 {
	f, lanes := fmaLoopY, 4
	if hasAVX512 {
		f, lanes = fmaLoopZ, 8
	}
	if !useAsm {
		return 0
	}
	best := 0.0
	for range 5 {
		t0 := cpuSeconds()
		const calls = 200
		for range calls {
			f(peakIters)
		}
		if dt := cpuSeconds() - t0; dt > 0 {
			best = max(best, calls*peakIters*12*float64(lanes)*2/dt)
		}
	}
	return best
})
