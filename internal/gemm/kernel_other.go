//go:build !amd64 || purego

package gemm

// useAsm is false: this build has only the Go micro-kernel.
const useAsm = false

func kernel(kcur int, ap, bp []float64, ldb int, c []float64, ldc int, accumulate bool) {
	kernelGo(kcur, ap, bp, ldb, c, ldc, accumulate)
}
