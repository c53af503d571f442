//go:build !amd64 || purego

package cpuref

// vectorElem is false: this build has only the Go loops.
const vectorElem = false

func sgd4(w, grad *float64, n int, lr float64) { panic("cpuref: no vector SGD in this build") }

func bytesToFloats8(dst *float64, src *byte, n int, scale float64) {
	panic("cpuref: no vector byte conversion in this build")
}

func colSum4(d, s *float64, n, stride, rows int) { panic("cpuref: no vector column sum in this build") }

func sigmoidGrad4(d, y *float64, n int) { panic("cpuref: no vector sigmoid derivative in this build") }

func adam4(w, grad, m, v *float64, n int, k *[9]float64, decoupled bool) {
	panic("cpuref: no vector Adam in this build")
}

func momentum4(w, grad, v *float64, n int, mu, lr float64) {
	panic("cpuref: no vector momentum in this build")
}
