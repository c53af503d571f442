//go:build unix

package memlimit

import (
	"math"
	"syscall"
)

// addressSpaceLeft is RLIMIT_AS (ulimit -v) less the address space in use
// (VmSize, where /proc/self/status tells it), when a limit is set.
func addressSpaceLeft() (uint64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &rl); err != nil || uint64(rl.Cur) == math.MaxUint64 {
		return 0, false
	}
	used, _ := meminfo("/proc/self/status", "VmSize")
	if used >= uint64(rl.Cur) {
		return 0, true
	}
	return uint64(rl.Cur) - used, true
}
