//go:build !unix

package benchrun

// PeakRSS returns 0: this platform has no getrusage.
func PeakRSS() uint64 { return 0 }
