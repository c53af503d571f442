//go:build amd64 && !purego

package cpuref

import "golang.org/x/sys/cpu"

// vectorElem reports whether sgd4 and bytesToFloats8 can run here.
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
