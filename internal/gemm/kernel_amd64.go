//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// useAsm reports whether the assembly micro-kernel can run here.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// hasAVX512 reports whether the AVX-512F micro-kernel can run here.
var hasAVX512 = cpu.X86.HasAVX512F && useAsm

// kernel6x8 is the AVX2/FMA micro-kernel of kernelGo's contract, on raw
// pointers: k ≥ 1 steps over a (k·6 values) and b (k rows of 8 values, ldb
// apart) into the 6×8 tile at c, whose rows are ldc elements apart.
//
//go:noescape
func kernel6x8(k int, a *float64, b *float64, ldb int, c *float64, ldc int, accumulate bool)

// kernel8x16 is the AVX-512F micro-kernel of kernelZGo's contract, on raw
// pointers.
//
//go:noescape
func kernel8x16(k int, a *float64, rsa, csa int, b *float64, ldb int, c *float64, ldc int, accumulate bool)

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

// kernelZ is kernelZGo, in assembly where the processor has AVX-512F; both
// give the same bits.
func kernelZ(kcur int, a []float64, rsa, csa int, b []float64, ldb int, c []float64, ldc int, accumulate bool) {
	if !hasAVX512 {
		kernelZGo(kcur, a, rsa, csa, b, ldb, c, ldc, accumulate)
		return
	}
	_ = a[(zr-1)*rsa+(kcur-1)*csa]
	_ = b[(kcur-1)*ldb+zc-1]
	_ = c[(zr-1)*ldc+zc-1]
	kernel8x16(kcur, &a[0], rsa, csa, &b[0], ldb, &c[0], ldc, accumulate)
}
