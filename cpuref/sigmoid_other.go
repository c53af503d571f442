//go:build !amd64 || purego

package cpuref

// vectorSigmoid is false: this build has only the scalar Sigmoid.
const vectorSigmoid = false

func sigmoidBias4(y, bias *float64, n int) { panic("cpuref: no vector sigmoid in this build") }
