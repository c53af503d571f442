package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gputrain/gputrain/internal/benchrun"
)

type flagT = flag.Flag

// writeBenchCSV writes the report's results as CSV to path.
func writeBenchCSV(path string, rep *benchrun.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--csv: %w", err)
	}
	if err := benchrun.WriteCSV(f, rep); err != nil {
		f.Close()
		return fmt.Errorf("--csv %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--csv %s: %w", path, err)
	}
	return nil
}
