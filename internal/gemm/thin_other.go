//go:build !amd64 || purego

package gemm

// useThinAsm is false: this build has only thin's Go loops (a variable
// only so that the tests compile alike in every build).
var useThinAsm = false

func thinDot4(k int, a *float64, lda int, b *float64, s *[16]float64) {
	panic("gemm: no thinDot4 in this build")
}

func thinAxpy16(k int, x *float64, sx int, a *float64, lda int, c *float64) {
	panic("gemm: no thinAxpy16 in this build")
}
