//go:build !amd64 || purego

package gemm

// useAsm is false: this build has only the Go micro-kernel.
const useAsm = false

func kernel(kcur int, ap, bp, c []float64, ldc int, accumulate bool) {
	kernelGo(kcur, ap, bp, c, ldc, accumulate)
}
