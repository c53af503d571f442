//go:build !race

package cpuref_test

const raceEnabled = false
