//go:build !amd64 || purego

package gemm

// peakPerCore is 0: this build has no measured peak.
func peakPerCore() float64 { return 0 }
