//go:build race

package cpuref_test

// raceEnabled: under the race detector sync.Pool drops a share of what is
// put back, so pooled work structures are allocated again and allocation
// counts say nothing about the code.
const raceEnabled = true
