//go:build unix

package gemm

import "syscall"

// cpuSeconds is the CPU time (user and system) this process has used, all
// threads together: under load from other processes it grows only while
// the benchmark runs, unlike the wall clock.
func cpuSeconds() float64 {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return float64(u.Utime.Nano()+u.Stime.Nano()) / 1e9
}
