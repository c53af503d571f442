//go:build amd64 && !purego

package cpuref

import "golang.org/x/sys/cpu"

// vectorElem reports whether sgd4, bytesToFloats8, colSum4, sigmoidGrad4,
// adam4 and momentum4 can run here.
var vectorElem = cpu.X86.HasAVX2

// sgd4 sets w[i] -= lr·grad[i] for n elements, n a multiple of 4, with AVX2
// (a product and a difference, each rounded, as sgdPlain's Go loop).
//
//go:noescape
func sgd4(w, grad *float64, n int, lr float64)

// bytesToFloats8 sets dst[i] = float64(src[i])·scale for n elements, n a
// multiple of 8, with AVX2 (the gather's arithmetic).
//
//go:noescape
func bytesToFloats8(dst *float64, src *byte, n int, scale float64)

// colSum4 sets d[j] to the sum of column j of the rows×stride matrix s, for
// j < n, n a multiple of 4 and rows ≥ 1, summed row after row with AVX2
// (columnSumModel's order, so the same bits).
//
//go:noescape
func colSum4(d, s *float64, n, stride, rows int)

// sigmoidGrad4 sets d[i] *= y[i]·(1 − y[i]) for n elements, n a multiple of
// 4, with AVX2 (activationGradRange's arithmetic, each step rounded).
//
//go:noescape
func sigmoidGrad4(d, y *float64, n int)

// adam4 is one Adam update of n elements, n a multiple of 4, with AVX2
// (adamRange's arithmetic without the coupled decay and clipping, each
// step rounded; k = {β1, 1−β1, β2, 1−β2, c1, c2, eps, lr, dw}).
//
//go:noescape
func adam4(w, grad, m, v *float64, n int, k *[9]float64, decoupled bool)

// momentum4 sets v = mu·v + grad, then w −= lr·v, for n elements, n a
// multiple of 4, with AVX2 (momentumRange's arithmetic without decay and
// clipping, each step rounded).
//
//go:noescape
func momentum4(w, grad, v *float64, n int, mu, lr float64)
