package nn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/safetensors"
	"github.com/gputrain/gputrain/table"
)

// houses writes a small table of numbers and text with missing cells:
// price (the target) grows with size and depends on the district.
func houses(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("size,district,age,price,kind\n")
	for i := range n {
		size := 50 + (i*37)%150
		d := []string{"north", "south", "east", "NA"}[i%4]
		age := fmt.Sprint((i * 13) % 60)
		if i%7 == 3 {
			age = "NA"
		}
		price := 1000*size + map[string]int{"north": 30000, "south": 0, "east": 10000, "NA": 5000}[d]
		kind := "flat"
		if size > 120 {
			kind = "house"
		}
		fmt.Fprintf(&b, "%d,%s,%s,%d,%s\n", size, d, age, price, kind)
	}
	p := filepath.Join(t.TempDir(), "houses.csv")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	return p
}

// tableModel fits the table at path for target and trains a model on it
// with backend b, as train --csv does.
func tableModel(t *testing.T, b backend.Backend, path, target string) (*nn.Model, *data.Split) {
	t.Helper()
	tb, err := table.Read(path)
	require.NoError(t, err)
	enc, sp, _, err := table.Fit(tb, nil, table.Options{Target: target, NA: table.NAFill, TestFraction: 0.25, Seed: 2})
	require.NoError(t, err)
	spec := nn.Spec{Inputs: enc.Width(), Hidden: []int{8}, Activation: backend.Tanh, Outputs: 1, Head: nn.RegressionHead}
	if enc.Task == table.TaskClassify {
		spec.Head = nn.BinaryHead
	}
	m := newModel(t, b, spec, 3)
	m.Scaling, err = nn.FitScaling(sp.Train, spec)
	require.NoError(t, err)
	m.Table = enc
	_, err = nn.Train(context.Background(), b, m, sp.Train, nn.Config{Epochs: 20, Batch: 8, LR: 0.01, Optimizer: nn.Adam, Seed: 1}, nn.Hooks{})
	require.NoError(t, err)
	return m, sp
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestTableCheckpointRoundTrip: the table encoding travels in the
// checkpoint, so that a loaded model encodes a CSV file without the target
// (prediction) exactly as the trained one did.
func TestTableCheckpointRoundTrip(t *testing.T) {
	path := houses(t, 80)
	for _, target := range []string{"price", "kind"} {
		t.Run(target, func(t *testing.T) {
			b := cpuref.New()
			m, sp := tableModel(t, b, path, target)
			ck := filepath.Join(t.TempDir(), "m.safetensors")
			require.NoError(t, m.Save(ck))

			l, err := nn.Load(ck, cpuref.New())
			require.NoError(t, err)
			defer l.Free()
			require.NotNil(t, l.Table)
			assert.Equal(t, jsonOf(t, m.Table), jsonOf(t, l.Table), "the same encoding")
			assert.Equal(t, m.Scaling, l.Scaling)
			_, _, enc, err := nn.LoadInfo(ck)
			require.NoError(t, err)
			assert.Equal(t, jsonOf(t, m.Table), jsonOf(t, enc))

			// Predict from a copy of the file without the target column.
			tb, err := table.Read(path)
			require.NoError(t, err)
			var nb strings.Builder
			var cols []int
			for j, h := range tb.Header {
				if h != target {
					cols = append(cols, j)
				}
			}
			for i := -1; i < tb.Rows(); i++ {
				var cells []string
				for _, j := range cols {
					if i < 0 {
						cells = append(cells, tb.Header[j])
					} else {
						cells = append(cells, tb.Cell(i, j))
					}
				}
				nb.WriteString(strings.Join(cells, ",") + "\n")
			}
			np := filepath.Join(t.TempDir(), "no-target.csv")
			require.NoError(t, os.WriteFile(np, []byte(nb.String()), 0o644))
			ntb, err := table.Read(np)
			require.NoError(t, err)
			s, rep, err := l.Table.Encode(ntb, false)
			require.NoError(t, err)
			assert.Equal(t, tb.Rows(), s.Rows, "one row per input row")
			assert.Equal(t, tb.Rows(), len(rep.Kept))
			got, err := l.Predict(s, 0)
			require.NoError(t, err)
			all, _, err := m.Table.Encode(tb, true)
			require.NoError(t, err)
			want, err := m.Predict(all, 0)
			require.NoError(t, err)
			assert.Equal(t, want, got, "the loaded model predicts the target-less file as the trained one predicts the file")

			if target == "price" {
				rm, err := l.EvaluateRegression(sp.Test, 0)
				require.NoError(t, err)
				assert.Greater(t, rm.R2, 0.5, "a learnable target")
				assert.Greater(t, rm.RMSE, rm.MAE*0.99)
			}

			// LoadParams (train --resume) takes the table too.
			fresh := newModel(t, cpuref.New(), l.Spec, 9)
			require.NoError(t, fresh.LoadParams(ck))
			assert.Equal(t, jsonOf(t, m.Table), jsonOf(t, fresh.Table))
		})
	}
	// A model not trained on a table has none.
	plain := newModel(t, cpuref.New(), xorSpec, 1)
	ck := filepath.Join(t.TempDir(), "plain.safetensors")
	require.NoError(t, plain.Save(ck))
	_, _, enc, err := nn.LoadInfo(ck)
	require.NoError(t, err)
	assert.Nil(t, enc)
}

// TestLoadRejectsBadTable: a checkpoint whose table encoding is damaged or
// does not fit its model is an error naming the file.
func TestLoadRejectsBadTable(t *testing.T) {
	b := cpuref.New()
	m, _ := tableModel(t, b, houses(t, 40), "kind")
	ck := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, m.Save(ck))
	good, err := os.ReadFile(ck)
	require.NoError(t, err)
	var enc map[string]any
	{
		f, err := safetensors.Decode("good", good)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal([]byte(f.Metadata[nn.MetaTable]), &enc))
	}
	edited := func(edit func(e map[string]any)) string {
		e := map[string]any{}
		require.NoError(t, json.Unmarshal([]byte(jsonOf(t, enc)), &e))
		edit(e)
		return jsonOf(t, e)
	}
	tests := []struct {
		name, table, want string
	}{
		{"not JSON", "{", "checkpoint table encoding"},
		{"unknown task", edited(func(e map[string]any) { e["task"] = "guess" }), "task"},
		{"three classes for a binary head", edited(func(e map[string]any) { e["classes"] = []string{"a", "b", "c"} }), "does not fit model"},
		{"regression for a binary head", edited(func(e map[string]any) { e["task"], e["classes"], e["target_kind"] = "regress", nil, "number" }), "does not fit model"},
		{"fewer inputs", edited(func(e map[string]any) { e["columns"] = e["columns"].([]any)[:1] }), "inputs"},
		{"bad column", edited(func(e map[string]any) { e["columns"].([]any)[0].(map[string]any)["kind"] = "date" }), `kind "date"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := rewrite(t, good, func(f *safetensors.File) { f.Metadata[nn.MetaTable] = tt.table })
			p := filepath.Join(t.TempDir(), "bad.safetensors")
			require.NoError(t, os.WriteFile(p, bad, 0o644))
			_, err := nn.Load(p, cpuref.New())
			require.Error(t, err)
			assert.Contains(t, err.Error(), p)
			assert.Contains(t, err.Error(), tt.want)
			_, _, _, err = nn.LoadInfo(p)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestEvaluateRegressionMetrics(t *testing.T) {
	b := cpuref.New()
	spec := nn.Spec{Inputs: 1, Outputs: 1, Head: nn.RegressionHead, Activation: backend.Identity}
	m := newModel(t, b, spec, 1)
	// y = 2x + 1 exactly, then targets off by +1, -1, +2, -2.
	require.NoError(t, m.SetParams([]nn.Params{{In: 1, Out: 1, W: []float64{2}, B: []float64{1}}}))
	s := &nn.Set{Name: "four", Rows: 4, Cols: 1, Outputs: 1, Features: []float64{0, 1, 2, 3}, Labels: []float64{2, 2, 7, 5}}
	rm, err := m.EvaluateRegression(s, 3)
	require.NoError(t, err)
	assert.Equal(t, 4, rm.Rows)
	assert.InDelta(t, math.Sqrt(10.0/4), rm.RMSE, 1e-12)
	assert.InDelta(t, 1.5, rm.MAE, 1e-12)
	// mean 4, SS_tot = 4+4+9+1 = 18, SS_res = 10.
	assert.InDelta(t, 1-10.0/18, rm.R2, 1e-12)

	s.Labels = []float64{3, 3, 3, 3}
	rm, err = m.EvaluateRegression(s, 0)
	require.NoError(t, err)
	assert.True(t, math.IsNaN(rm.R2), "R² of a constant target is undefined")

	cls := newModel(t, b, xorSpec, 1)
	_, err = cls.EvaluateRegression(xorSet(4, 1), 0)
	require.ErrorContains(t, err, "regression head")
}

func TestEpochStatsJSON(t *testing.T) {
	b, err := json.Marshal([]nn.EpochStats{
		{Epoch: 1, Loss: 0.5, Accuracy: math.NaN(), ValLoss: math.NaN(), ValAccuracy: math.NaN()},
		{Epoch: 2, Loss: 0.25, Accuracy: 0.75, ValLoss: 0.5, ValAccuracy: 0.5}})
	require.NoError(t, err, "NaN accuracy (regression) and no validation are no JSON error")
	var back []map[string]any
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Nil(t, back[0]["Accuracy"])
	assert.Contains(t, back[0], "Accuracy")
	assert.Nil(t, back[0]["ValLoss"])
	assert.Nil(t, back[0]["ValAccuracy"])
	assert.Equal(t, 0.5, back[1]["ValLoss"])
	assert.Equal(t, 0.75, back[1]["Accuracy"])
	assert.EqualValues(t, 2, back[1]["Epoch"], "Go's field names, as before")
	assert.Equal(t, 0.25, back[1]["Loss"])

	// An infinite loss or rate is null too, not a JSON error.
	b, err = json.Marshal(nn.EpochStats{Epoch: 3, Loss: math.Inf(1), Accuracy: math.NaN(), ValLoss: math.Inf(-1), ValAccuracy: 1, SamplesPerSec: math.Inf(1)})
	require.NoError(t, err)
	var inf map[string]any
	require.NoError(t, json.Unmarshal(b, &inf))
	for _, k := range []string{"Loss", "ValLoss", "SamplesPerSec"} {
		assert.Contains(t, inf, k)
		assert.Nil(t, inf[k], k)
	}
	assert.Equal(t, 1.0, inf["ValAccuracy"])
}
