//go:build unix

package benchrun

import (
	"runtime"
	"syscall"
)

// PeakRSS is the process's peak resident set size in bytes (getrusage
// ru_maxrss), or 0 where it is not available.
func PeakRSS() uint64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return uint64(ru.Maxrss) // bytes
	}
	return uint64(ru.Maxrss) * 1024 // kilobytes elsewhere
}
