//go:build amd64 && !purego

package gemm

// useThinAsm selects thin's AVX2 loops (same bits as its Go loops); tests
// switch it off to compare them.
var useThinAsm = useAsm

//go:noescape
func thinDot4(k int, a *float64, lda int, b *float64, s *[16]float64)

//go:noescape
func thinAxpy16(k int, x *float64, sx int, a *float64, lda int, c *float64)
