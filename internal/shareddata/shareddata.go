// Package shareddata finds the real data sets that tests and benchmarks may
// use. They live outside the project, in a shared/data folder beside the
// repository (or wherever GPUTRAIN_SHARED_DATA points), and are never copied
// into it; tests that need them skip when they are absent.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared data folder and whether it exists. It honours
// GPUTRAIN_SHARED_DATA, else looks for ../shared/data beside the directory
// that holds go.mod, walking up from the working directory.
func Dir() (string, bool) {
	if d := os.Getenv("GPUTRAIN_SHARED_DATA"); d != "" {
		return d, isDir(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(filepath.Dir(d), "shared", "data")
			return p, isDir(p)
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

// Path returns the path of name inside the shared data folder, or skips tb
// with a message saying what is missing.
func Path(tb testing.TB, name string) string {
	tb.Helper()
	d, ok := Dir()
	if !ok {
		tb.Skipf("shared data folder not found (looked for %q; set GPUTRAIN_SHARED_DATA): skipping real-data test", d)
	}
	p := filepath.Join(d, name)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared data %s is absent: %v", name, err)
	}
	return p
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
