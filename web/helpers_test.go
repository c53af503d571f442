package web

import (
	"testing"

	"github.com/gputrain/gputrain/conformance"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/fit"
	"github.com/stretchr/testify/require"
)

func conformanceChecks() []string { return conformance.Checks() }

// evalCheckpoint loads the checkpoint at path on the CPU reference, as
// `gputrain eval` does, and returns its accuracy on the digits test split.
func evalCheckpoint(t *testing.T, path string) (acc float64, rows int) {
	t.Helper()
	m, err := fit.Load(path, cpuref.New())
	require.NoError(t, err)
	defer m.Close()
	split, err := data.Digits()
	require.NoError(t, err)
	sc, err := m.Evaluate(split.Test)
	require.NoError(t, err)
	return sc.Accuracy, sc.Rows
}
