package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestContradictionsAreUsageErrors: flags that contradict each other, and
// the same kind of mistake anywhere, exit with status 2 before any work.
func TestContradictionsAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	table := flatsCSV(t, dir, "flats.csv", 40, 0, true)
	test := flatsCSV(t, dir, "test.csv", 20, 100, true)
	sys := filepath.Join(dir, "sys.csv")
	require.NoError(t, os.WriteFile(sys, []byte("1,0,1\n0,1,2\n"), 0o644))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"solve --csv with --a", []string{"solve", "--device", "cpu", "--csv", sys, "--a", "1,0;0,1"}, "--csv and --a/--y are two systems: give one"},
		{"solve --csv with --y", []string{"solve", "--device", "cpu", "--csv", sys, "--y", "1,2"}, "--csv and --a/--y are two systems"},
		{"--test-csv with --test-fraction", []string{"--device", "cpu", "--csv", table, "--target", "kind", "--test-csv", test, "--test-fraction", "0.3"}, "--test-csv and --test-fraction are two test sets"},
		{"--digits 0,0", []string{"--device", "cpu", "--digits", "0,0"}, "--digits"},
		{"--digits 0", []string{"--device", "cpu", "--digits", "0"}, "--digits needs at least two classes"},
		{"help nosuch", []string{"help", "nosuch"}, `unknown command "nosuch"`},
		{"--plot an SVG", []string{"--device", "cpu", "--plot", filepath.Join(dir, "x.svg")}, "plots are written as PNG only; name the file .png (not .svg)"},
		{"bench --plot a PDF", []string{"bench", "--device", "cpu", "--plot", filepath.Join(dir, "x.PDF")}, "(not .pdf)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := gputrain(t, tt.args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, tt.want)
			assert.NotRegexp(t, "(?m)^device:", stderr, "no device opened")
			assert.Empty(t, stdout)
		})
	}

	t.Run("--test-csv is --csv", func(t *testing.T) {
		code, _, stderr := gputrain(t, append([]string{"--device", "cpu", "--csv", table, "--target", "kind", "--test-csv", table}, tableArgs...)...)
		assert.Equal(t, 0, code, stderr)
		assert.Contains(t, stderr, "warning: --test-csv "+table+" is the --csv table itself")
	})
}
