//go:build amd64 && !purego

package cpuref

import "golang.org/x/sys/cpu"

// vectorSigmoid reports whether sigmoidBias4 can run here.
var vectorSigmoid = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// sigmoidBias4 sets y[i] = σ(y[i] + bias[i]) for n elements, n a multiple
// of 4, four at a time with AVX2 and FMA; every |y[i] + bias[i]| must be at
// most expLimit (NaN is allowed and propagates). See sigmoid_amd64.s.
//
//go:noescape
func sigmoidBias4(y, bias *float64, n int)
