//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// useAsm reports whether the assembly micro-kernel can run here.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel6x8 is the AVX2/FMA micro-kernel of kernelGo's contract, on raw
// pointers: k ≥ 1 steps over a (k·6 values) and b (k rows of 8 values, ldb
// apart) into the 6×8 tile at c, whose rows are ldc elements apart.
//
//go:noescape
func kernel6x8(k int, a, b *float64, ldb int, c *float64, ldc int, accumulate bool)

// kernel is kernelGo, in assembly where the processor has AVX2 and FMA.
// Both round each multiply-add once, so they give the same bits.
func kernel(kcur int, ap, bp []float64, ldb int, c []float64, ldc int, accumulate bool) {
	if !useAsm {
		kernelGo(kcur, ap, bp, ldb, c, ldc, accumulate)
		return
	}
	// Bounds checks once, for what the assembly reads and writes.
	_ = ap[kcur*mr-1]
	_ = bp[(kcur-1)*ldb+nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	kernel6x8(kcur, &ap[0], &bp[0], ldb, &c[0], ldc, accumulate)
}
