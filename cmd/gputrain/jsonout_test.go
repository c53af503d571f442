package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/nn"
)

// TestWriteJSONNonFinite: every command's --json goes through writeJSON,
// which writes NaN and infinities as null, keeps field order and the
// outputs' own rules (omitted NaN accuracies), and is byte for byte
// json.Encoder's output when every number is finite.
func TestWriteJSONNonFinite(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	one := 1.0
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"finite train result", trainResult{Model: "m", TestLoss: 0.5, TestAccuracy: 0.9, Seconds: 1},
			`{"device":"","backend":"","adapter":"","data":"","synthetic":false,"model":"m","epochs":0,"test_loss":0.5,"seconds":1,"test_accuracy":0.9}`},
		{"infinite loss", trainResult{Model: "m", TestLoss: inf, TestAccuracy: nan, TestRMSE: &inf, TestMAE: &one, Seconds: 1},
			`{"device":"","backend":"","adapter":"","data":"","synthetic":false,"model":"m","epochs":0,"test_loss":null,"test_rmse":null,"test_mae":1,"seconds":1}`},
		{"history", trainResult{TestLoss: 1, History: []historyEntry{newHistoryEntry(epochStats(-inf))}},
			`"history":[{"epoch":1,"lr":0,"steps":0,"samples":0,"loss":null,"accuracy":null,"val_loss":null,"val_accuracy":null,"samples_per_second":0,"seconds":0}]`},
		{"solve", solveResult{X: []float64{1, inf}, Losses: [][2]float64{{0, nan}}},
			`"x":[1,null],"ax":null,"y":null,"losses":[[0,null]]`},
		{"predictions", map[string]any{"model": "m", "predictions": []tablePrediction{{Row: 1, Predicted: inf, Probabilities: map[string]float64{"a": nan, "b": 1}}}},
			`{"model":"m","predictions":[{"row":1,"predicted":null,"probabilities":{"a":null,"b":1}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, writeJSON(&b, tt.v))
			out := b.String()
			assert.True(t, strings.HasSuffix(out, "}\n"), out)
			assert.True(t, json.Valid(b.Bytes()), out)
			assert.Contains(t, out, tt.want)
			if !strings.Contains(tt.name, "finite") || strings.Contains(tt.name, "infinite") {
				return
			}
			var std bytes.Buffer
			require.NoError(t, json.NewEncoder(&std).Encode(tt.v))
			assert.Equal(t, std.String(), out, "finite outputs are as json.Encoder writes them")
		})
	}
}

// TestEvalJSONWithInfiniteMetric: a test table whose target overflows the
// squared error makes the loss and the RMSE infinite; eval --json still
// writes valid JSON, with null for them, and exit status 0 as without
// --json.
func TestEvalJSONWithInfiniteMetric(t *testing.T) {
	dir := t.TempDir()
	train := flatsCSV(t, dir, "flats.csv", 200, 0, true)
	model := filepath.Join(dir, "m.safetensors")
	code, _, stderr := gputrain(t, append([]string{"--device", "cpu", "--csv", train, "--target", "price", "--drop", "id,kind", "--save", model}, tableArgs...)...)
	require.Equal(t, 0, code, stderr)

	lines := strings.Split(strings.TrimSpace(string(readFile(t, train))), "\n")
	f := strings.Split(lines[1], ",")
	f[4] = "1e300"
	test := filepath.Join(dir, "huge.csv")
	require.NoError(t, os.WriteFile(test, []byte(strings.Join([]string{lines[0], strings.Join(f, ","), lines[2], lines[3]}, "\n")+"\n"), 0o644))

	code, stdout, stderr := gputrain(t, "eval", "--device", "cpu", "--model", model, "--csv", test)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "RMSE +Inf")
	code, stdout, stderr = gputrain(t, "eval", "--device", "cpu", "--model", model, "--csv", test, "--json")
	require.Equal(t, 0, code, stderr)
	res := decode(t, stdout)
	assert.Nil(t, res["test_loss"])
	assert.Nil(t, res["test_rmse"])
	assert.Contains(t, res, "test_rmse")
	assert.NotNil(t, res["test_mae"])
}

// epochStats is a first epoch with the given loss and no accuracy or
// validation.
func epochStats(loss float64) nn.EpochStats {
	return nn.EpochStats{Epoch: 1, Loss: loss, Accuracy: math.NaN(), ValLoss: math.NaN(), ValAccuracy: math.NaN()}
}

// TestTableSpreadOverflow: one cell of 1e160 in a number column overflows
// its spread; train stops before any device work with exit status 1, naming
// the file, the line, the column and the value (it used to be scaled by 1
// silently, or "diverge" on the GPU with a hint about --lr).
func TestTableSpreadOverflow(t *testing.T) {
	dir := t.TempDir()
	p := flatsCSV(t, dir, "flats.csv", 120, 0, true)
	lines := strings.Split(string(readFile(t, p)), "\n")
	f := strings.Split(lines[5], ",")
	f[1] = "1e160"
	lines[5] = strings.Join(f, ",")
	require.NoError(t, os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644))
	code, stdout, stderr := gputrain(t, append([]string{"--device", "cpu", "--csv", p, "--target", "kind", "--drop", "id,price", "--test-fraction", "0.01"}, tableArgs...)...)
	assert.Equal(t, 1, code, stderr)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, p+`: line 6, column "area": 1e160 is too far from the column's other values`)
	assert.NotContains(t, stderr, "--lr")
}
