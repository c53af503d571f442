//go:build amd64 && !purego

package gemm

// fmaLoopY runs n iterations of 12 independent 4-wide (YMM) float64 fused
// multiply-adds; fmaLoopZ the same with 8-wide (ZMM, AVX-512F) ones. Twelve
// chains cover the latency of two FMA pipes (4 cycles each). They are the
// peak against which BenchmarkPeak and BenchmarkDgemm are read.
//
//go:noescape
func fmaLoopY(n int)

//go:noescape
func fmaLoopZ(n int)
