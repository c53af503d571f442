//go:build !amd64 || purego

package gemm

// useAsm and hasAVX512 are false: this build has only the Go micro-kernels.
const (
	useAsm    = false
	hasAVX512 = false
)

func kernel(kcur int, ap, bp []float64, ldb int, c []float64, ldc int, accumulate bool) {
	kernelGo(kcur, ap, bp, ldb, c, ldc, accumulate)
}

func kernelZ(kcur int, a []float64, rsa, csa int, b []float64, ldb int, c []float64, ldc int, accumulate bool) {
	kernelZGo(kcur, a, rsa, csa, b, ldb, c, ldc, accumulate)
}
