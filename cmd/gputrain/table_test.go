package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/gpu/gputest"
	"github.com/gputrain/gputrain/internal/shareddata"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/table"
)

// flatsCSV writes a table of n flats to dir/name: numbers, text and missing
// cells; price (a number) and kind (two classes of text) are targets to
// predict, and with target false neither column is written.
func flatsCSV(t *testing.T, dir, name string, n, offset int, targets bool) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,area,district,floor")
	if targets {
		b.WriteString(",price,kind")
	}
	b.WriteString("\n")
	for k := range n {
		i := k + offset
		area := 30 + (i*37)%120
		d := []string{"old town", "harbour", "hills", "NA"}[i%4]
		floor := strconv.Itoa((i * 5) % 9)
		if i%9 == 4 {
			floor = ""
		}
		fmt.Fprintf(&b, "%d,%d,%s,%s", 1000+i, area, d, floor)
		if targets {
			price := 3000*area + map[string]int{"old town": 90000, "harbour": 60000, "hills": 20000, "NA": 40000}[d] + (i*7919)%9000
			kind := "small"
			if area >= 90 {
				kind = "large"
			}
			fmt.Fprintf(&b, ",%d,%s", price, kind)
		}
		b.WriteString("\n")
	}
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	return p
}

// tableArgs are the flags of a quick table run.
var tableArgs = []string{"--na", "fill", "--hidden", "16", "--epochs", "100", "--seed", "3"}

func decode(t *testing.T, stdout string) map[string]any {
	t.Helper()
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &res), stdout)
	return res
}

func TestTrainCSV(t *testing.T) {
	dir := t.TempDir()
	train := flatsCSV(t, dir, "flats.csv", 160, 0, true)
	test := flatsCSV(t, dir, "flats-test.csv", 40, 500, true)
	noTarget := flatsCSV(t, dir, "flats-new.csv", 25, 900, false)

	t.Run("regression", func(t *testing.T) {
		ck := filepath.Join(dir, "price.safetensors")
		args := append([]string{"--device", "cpu", "--csv", train, "--target", "price", "--drop", "id,kind", "--test-csv", test, "--save", ck, "--json"}, tableArgs...)
		code, stdout, stderr := gputrain(t, args...)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stderr, `the target "price" holds`)
		assert.Contains(t, stderr, "regression")
		res := decode(t, stdout)
		assert.Contains(t, res["model"], "-1 relu regression", "table defaults: relu")
		for _, k := range []string{"test_loss", "test_rmse", "test_mae", "test_r2"} {
			assert.Contains(t, res, k)
		}
		assert.NotContains(t, res, "test_accuracy", "a regression has no accuracy")
		assert.Greater(t, res["test_r2"].(float64), 0.8, "price is learnable from area and district")
		h0 := res["history"].([]any)[0].(map[string]any)
		assert.Contains(t, h0, "accuracy")
		assert.Nil(t, h0["accuracy"], "a regression's accuracy is null")

		// eval on the test file reproduces train's figures.
		code, stdout, stderr = gputrain(t, "eval", "--device", "cpu", "--model", ck, "--csv", test, "--json")
		require.Equal(t, 0, code, stderr)
		ev := decode(t, stdout)
		for _, k := range []string{"test_loss", "test_rmse", "test_mae", "test_r2"} {
			assert.InDelta(t, res[k], ev[k], 1e-9, k)
		}
		code, stdout, stderr = gputrain(t, "eval", "--device", "cpu", "--model", ck, "--csv", test)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "RMSE")
		assert.Contains(t, stdout, "R²")

		// predict on a file without the target: one line per row.
		out := filepath.Join(dir, "pred.csv")
		code, _, stderr = gputrain(t, "predict", "--device", "cpu", "--model", ck, "--csv", noTarget, "--out", out)
		require.Equal(t, 0, code, stderr)
		recs := readCSV(t, out)
		require.Len(t, recs, 26)
		assert.Equal(t, []string{"row", "price"}, recs[0])
		for i, r := range recs[1:] {
			assert.Equal(t, strconv.Itoa(i+1), r[0])
			v, err := strconv.ParseFloat(r[1], 64)
			require.NoError(t, err)
			assert.Greater(t, v, 50000.0, "in the target's units, not standardised")
		}
	})

	t.Run("classification", func(t *testing.T) {
		ck := filepath.Join(dir, "kind.safetensors")
		args := append([]string{"--device", "cpu", "--csv", train, "--target", "kind", "--drop", "id,price", "--save", ck, "--json"}, tableArgs...)
		code, stdout, stderr := gputrain(t, args...)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stderr, "classes: large, small")
		assert.Contains(t, stderr, "128 training, 32 test rows", "a held-out fifth")
		res := decode(t, stdout)
		assert.Contains(t, res["model"], "-1 relu binary", "two classes: a BCE head")
		assert.Greater(t, res["test_accuracy"].(float64), 0.85)
		assert.NotContains(t, res, "test_r2")
		checkConfusion(t, stdout, 2, 32)

		// eval on a table: the same counts, the matrix by class name.
		code, stdout, stderr = gputrain(t, "eval", "--device", "cpu", "--model", ck, "--csv", train, "--json")
		require.Equal(t, 0, code, stderr)
		checkConfusion(t, stdout, 2, 160)
		code, stdout, stderr = gputrain(t, "eval", "--device", "cpu", "--model", ck, "--csv", test)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "balanced accuracy")
		assert.Regexp(t, `true\\predicted +large +small +recall`, stdout)
		assert.Regexp(t, `(?m)^ +large +\d+ +\d+ +`, stdout)

		code, stdout, stderr = gputrain(t, "predict", "--device", "cpu", "--model", ck, "--csv", noTarget)
		require.Equal(t, 0, code, stderr)
		recs := readCSVString(t, stdout)
		require.Len(t, recs, 26)
		assert.Equal(t, []string{"row", "kind", "p(large)", "p(small)"}, recs[0])
		for _, r := range recs[1:] {
			assert.Contains(t, []string{"large", "small"}, r[1], "the label's text")
			pl, _ := strconv.ParseFloat(r[2], 64)
			ps, _ := strconv.ParseFloat(r[3], 64)
			assert.InDelta(t, 1, pl+ps, 2e-6)
		}
		code, stdout, stderr = gputrain(t, "predict", "--device", "cpu", "--model", ck, "--csv", noTarget, "--json")
		require.Equal(t, 0, code, stderr)
		var pj struct {
			Target      string
			Predictions []struct {
				Row           int
				Predicted     string
				Probabilities map[string]float64
			}
		}
		require.NoError(t, json.Unmarshal([]byte(stdout), &pj))
		assert.Equal(t, "kind", pj.Target)
		require.Len(t, pj.Predictions, 25)
		assert.Equal(t, recs[1][1], pj.Predictions[0].Predicted)
		assert.Len(t, pj.Predictions[0].Probabilities, 2)

		// Going on from the checkpoint uses its encoding and the same split.
		code, stdout, stderr = gputrain(t, "--device", "cpu", "--csv", train, "--target", "kind", "--drop", "id,price", "--resume", ck, "--epochs", "1", "--json")
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stderr, "128 training, 32 test rows")
		assert.EqualValues(t, 101, decode(t, stdout)["history"].([]any)[0].(map[string]any)["epoch"])
	})

	t.Run("three classes with drop", func(t *testing.T) {
		ck := filepath.Join(dir, "district.safetensors")
		code, stdout, stderr := gputrain(t, "--device", "cpu", "--csv", train, "--target", "district", "--drop", "id,kind", "--na", "drop", "--epochs", "2", "--save", ck, "--json")
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stderr, "dropped 54 rows with missing cells (lines 5, 6, 9, 13") // district NA, floor empty
		assert.Contains(t, decode(t, stdout)["model"], "softmax")

		// predict keeps one line per row: a row with a missing feature
		// (NA policy drop) gets empty cells; the target is not read.
		code, stdout, stderr = gputrain(t, "predict", "--device", "cpu", "--model", ck, "--csv", train)
		require.Equal(t, 0, code, stderr)
		recs := readCSVString(t, stdout)
		require.Len(t, recs, 161)
		assert.Equal(t, []string{"row", "district", "p(harbour)", "p(hills)", "p(old town)"}, recs[0])
		assert.Equal(t, []string{"5", "", "", "", ""}, recs[5], "row 5 (line 6) has no floor")
		assert.NotEmpty(t, recs[4][1], "row 4's district is NA, which predict does not read")
	})
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return readCSVString(t, string(b))
}

func readCSVString(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	require.NoError(t, err, s)
	return recs
}

// TestTableGPUMatchesCPU trains the same small table on the shaders and on
// the float64 reference: the same split, inputs and initial weights, so
// the float32 run tracks the float64 one — the test loss within the
// tolerance nn's GPU training test allows per epoch (1e-3 + 1e-2·loss),
// every predicted price within 1% — and a checkpoint saved from the GPU
// evaluates on the CPU to the figures the GPU reported.
func TestTableGPUMatchesCPU(t *testing.T) {
	gputest.Open(t) // skips without an adapter (fails under GPUTRAIN_REQUIRE_GPU=1)
	device := gputest.Device()
	if device == "any" {
		device = "software"
	}
	dir := t.TempDir()
	train := flatsCSV(t, dir, "flats.csv", 120, 0, true)
	noTarget := flatsCSV(t, dir, "new.csv", 20, 700, false)
	args := []string{"--csv", train, "--target", "price", "--drop", "id,kind", "--na", "fill", "--hidden", "16", "--epochs", "8", "--batch", "16", "--seed", "5", "--json"}
	res := map[string]map[string]any{}
	preds := map[string][][]string{}
	for _, dev := range []string{"cpu", device} {
		ck := filepath.Join(dir, dev+".safetensors")
		code, stdout, stderr := gputrain(t, append([]string{"--device", dev, "--save", ck}, args...)...)
		require.Equal(t, 0, code, stderr)
		res[dev] = decode(t, stdout)
		out := filepath.Join(dir, dev+".csv")
		code, _, stderr = gputrain(t, "predict", "--device", dev, "--model", ck, "--csv", noTarget, "--out", out)
		require.Equal(t, 0, code, stderr)
		preds[dev] = readCSV(t, out)
	}
	c, g := res["cpu"], res[device]
	assert.Equal(t, "gpu", g["device"])
	lc := c["test_loss"].(float64)
	assert.InDelta(t, lc, g["test_loss"].(float64), 1e-3+1e-2*lc, "test loss, float64 vs float32")
	// R² and the test loss come from the same squared errors on the same
	// rows (R² = 1 - SSres/SStot; the loss is SSres in units of the training
	// targets' variance, the same float64 scaling on both devices), so the
	// float32 run's R² is off by (1 - R²) times the relative error
	// of its loss. That relative error, the drift of float32 against float64
	// over these 8 epochs of 6 Adam steps, measured at most 7e-6 on lavapipe
	// for seeds 1-8 (R² apart by at most 7.8e-6; 1.3e-5 after 30 epochs):
	// 1e-4 leaves a margin of ten for other GPUs' rounding.
	r2 := c["test_r2"].(float64)
	assert.InDelta(t, r2, g["test_r2"].(float64), 1e-4*(1-r2), "test R², float64 vs float32")
	require.Len(t, preds[device], len(preds["cpu"]))
	for i := 1; i < len(preds["cpu"]); i++ {
		pc, _ := strconv.ParseFloat(preds["cpu"][i][1], 64)
		pg, _ := strconv.ParseFloat(preds[device][i][1], 64)
		assert.InDelta(t, pc, pg, 1e-2*math.Abs(pc), "row %d", i)
	}

	// The GPU's checkpoint on the CPU: the figures the GPU reported, to
	// float32 precision.
	test := filepath.Join(dir, "test.csv")
	require.NoError(t, os.WriteFile(test, []byte(strings.Join(func() []string {
		var lines []string
		for _, r := range readCSV(t, train)[:41] {
			lines = append(lines, strings.Join(r, ","))
		}
		return lines
	}(), "\n")+"\n"), 0o644))
	for _, dev := range []string{device, "cpu"} {
		code, stdout, stderr := gputrain(t, "eval", "--device", dev, "--model", filepath.Join(dir, device+".safetensors"), "--csv", test, "--json")
		require.Equal(t, 0, code, stderr)
		res["eval "+dev] = decode(t, stdout)
	}
	assert.InDelta(t, res["eval "+device]["test_rmse"].(float64), res["eval cpu"]["test_rmse"].(float64), 1e-4*res["eval cpu"]["test_rmse"].(float64))
}

// TestBadTables: every bad table is an error naming the file, the line and
// the column, exit status 1, no panic.
func TestBadTables(t *testing.T) {
	dir := t.TempDir()
	good := flatsCSV(t, dir, "good.csv", 40, 0, true)
	ck := filepath.Join(dir, "m.safetensors")
	code, _, stderr := gputrain(t, append([]string{"--device", "cpu", "--csv", good, "--target", "kind", "--drop", "id,price", "--save", ck, "--epochs", "1"}, tableArgs[:2]...)...)
	require.Equal(t, 0, code, stderr)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	many := "name,y\n"
	for i := range 150 {
		many += fmt.Sprintf("n%d,%d\n", i, i%2)
	}
	tests := []struct {
		name string
		args func(p string) []string
		file string
		want []string
	}{
		{"NA under the default policy", func(p string) []string { return []string{"--csv", p, "--target", "price"} }, "",
			[]string{"good.csv: line 5, column \"district\": \"NA\" is missing (NA)"}},
		{"short row", func(p string) []string { return []string{"--csv", p, "--target", "y"} }, "a,b,y\n1,2,3\n4,5\n",
			[]string{"line 3: 2 fields but the header has 3 columns: no value for column \"y\""}},
		{"long row", func(p string) []string { return []string{"--csv", p, "--target", "y"} }, "a,y\n1,2\n3,4,5\n",
			[]string{"line 3: 3 fields", "past the last column \"y\""}},
		{"bad quoting", func(p string) []string { return []string{"--csv", p, "--target", "y"} }, "a,y\n1,\"2\n",
			[]string{"line 2", "column"}},
		{"empty file", func(p string) []string { return []string{"--csv", p, "--target", "y"} }, "",
			[]string{"empty file"}},
		{"no such target", func(p string) []string { return []string{"--csv", p, "--target", "cost"} }, "",
			[]string{"line 1: no column \"cost\"; the columns are: id, area, district, floor, price, kind"}},
		{"no such column to drop", func(p string) []string { return []string{"--csv", p, "--target", "price", "--drop", "Id"} }, "",
			[]string{"line 1: no column \"Id\""}},
		{"too many categories", func(p string) []string { return []string{"--csv", p, "--target", "y"} }, many,
			[]string{"column \"name\" holds text with 120 distinct values", "cap of 100 categories", "--drop name", "--features"}},
		{"infinite number", func(p string) []string { return []string{"--csv", p, "--target", "y"} }, "a,y\n1,1\n2,2\n1e999,1\n3,2\n",
			[]string{"line 4, column \"a\": \"1e999\" is not a finite number"}},
		{"text target regressed", func(p string) []string {
			return []string{"--csv", p, "--target", "kind", "--task", "regress", "--na", "fill"}
		}, "",
			[]string{"line 2, column \"kind\": \"small\": the target holds text"}},
		{"eval: text in a number column", func(p string) []string { return []string{"eval", "--model", ck, "--csv", p} },
			"id,area,district,floor,price,kind\n1,50,hills,2,1,small\n2,big,hills,2,1,small\n",
			[]string{"line 3, column \"area\": \"big\" is not a number"}},
		{"eval: unknown class", func(p string) []string { return []string{"eval", "--model", ck, "--csv", p} },
			"id,area,district,floor,price,kind\n1,50,hills,2,1,huge\n",
			[]string{"line 2, column \"kind\": class \"huge\" is not one of the 2 classes"}},
		{"eval: no target column", func(p string) []string { return []string{"eval", "--model", ck, "--csv", p} },
			"id,area,district,floor\n1,50,hills,2\n",
			[]string{"line 1: no column \"kind\"", "evaluation needs the target column"}},
		{"predict: a feature column missing", func(p string) []string { return []string{"predict", "--model", ck, "--csv", p} },
			"id,area,floor\n1,50,2\n",
			[]string{"line 1: no column \"district\"", "the model was trained with this column"}},
		{"eval: a model not trained on a table", func(p string) []string { return []string{"eval", "--model", plainModel(t, dir), "--csv", p} }, "",
			[]string{"not trained on a table"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			if tt.file != "" || strings.Contains(tt.name, "empty") {
				p = write(strings.ReplaceAll(tt.name, " ", "_")+".csv", tt.file)
			}
			args := tt.args(p)
			if args[0] == "eval" || args[0] == "predict" {
				args = append([]string{args[0], "--device", "cpu"}, args[1:]...)
			} else {
				args = append([]string{"--device", "cpu"}, args...)
			}
			code, _, stderr := gputrain(t, args...)
			assert.Equal(t, 1, code, stderr)
			if !strings.Contains(tt.name, "not trained") {
				assert.Contains(t, stderr, p, "names the file")
			}
			for _, w := range tt.want {
				assert.Contains(t, stderr, w)
			}
			assert.NotContains(t, stderr, "goroutine", "no stack traces")
			assert.NotContains(t, stderr, "panic")
		})
	}
}

// plainModel saves a model trained on images, once.
func plainModel(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "plain.safetensors")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	code, _, stderr := gputrain(t, "--device", "cpu", "--epochs", "1", "--hidden", "4", "--save", p)
	require.Equal(t, 0, code, stderr)
	return p
}

// TestTableDefaultEpochs: a table run without --epochs trains as many
// epochs as tableEpochs gives its task; --epochs given wins.
func TestTableDefaultEpochs(t *testing.T) {
	train := flatsCSV(t, t.TempDir(), "flats.csv", 40, 0, true)
	for _, tt := range []struct {
		target, drop string
		epochs       []string
		want         int
	}{
		{"kind", "id,price", nil, tableEpochs[table.TaskClassify]},
		{"price", "id,kind", nil, tableEpochs[table.TaskRegress]},
		{"price", "id,kind", []string{"--epochs", "3"}, 3},
	} {
		t.Run(fmt.Sprintf("%s %v", tt.target, tt.epochs), func(t *testing.T) {
			args := append([]string{"--device", "cpu", "--csv", train, "--target", tt.target, "--drop", tt.drop, "--na", "fill", "--hidden", "4", "--json"}, tt.epochs...)
			code, stdout, stderr := gputrain(t, args...)
			require.Equal(t, 0, code, stderr)
			assert.Contains(t, stderr, fmt.Sprintf(", %d epochs", tt.want), "the banner")
			assert.EqualValues(t, tt.want, decode(t, stdout)["epochs"], "epochs trained")
		})
	}
}

func TestTableUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--csv", "x.csv"}, "--csv needs --target COLUMN"},
		{[]string{"--target", "y"}, "--target needs --csv"},
		{[]string{"--na", "fill"}, "--na needs --csv"},
		{[]string{"--csv", "x.csv", "--target", "y", "--data", "mnist"}, "two data sources"},
		{[]string{"--csv", "x.csv", "--target", "y", "--preset", "tutorial"}, "--preset tutorial trains on --data digits --digits 0,1, another data source than --csv: give one"},
		{[]string{"--preset", "Tutorial", "--csv", "x.csv"}, "--preset Tutorial trains on --data digits --digits 0,1"},
		{[]string{"--csv", "x.csv", "--target", "y", "--na", "guess"}, "--na"},
		{[]string{"--csv", "x.csv", "--target", "y", "--task", "guess"}, "--task"},
		{[]string{"--csv", "x.csv", "--target", "y", "--test-fraction", "1.5"}, "--test-fraction 1.5"},
		{[]string{"--csv", "x.csv", "--target", "y", "--max-categories", "0"}, "--max-categories 0"},
		{[]string{"predict", "--model", "m", "--csv", "x.csv", "--n", "3"}, "--n goes with --data"},
		{[]string{"predict", "--model", "m", "--out", "p.csv"}, "--out goes with --csv"},
		{[]string{"eval", "--model", "m", "--csv", "x.csv", "--digits", "0,1"}, "two data sources"},
		{[]string{"eval", "--csv", "x.csv"}, "--model is required"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := gputrain(t, tt.args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, tt.want)
		})
	}
	code, _, stderr := gputrain(t, "help", "train")
	assert.Equal(t, 0, code)
	for _, f := range []string{"-csv", "-target", "-features", "-drop", "-na", "-task", "-test-csv", "-test-fraction", "-split-seed", "-max-categories"} {
		assert.Contains(t, stderr, f)
	}
}

// TestHousingTable is docs/tables.md's worked example: Ames house prices from 79
// numeric and text columns with missing cells, on the CPU backend.
func TestHousingTable(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: trains 150 epochs on 1168 rows")
	}
	p := shareddata.Path(t, "housing/train.csv")
	code, stdout, stderr := gputrain(t, "--device", "cpu", "--csv", p, "--target", "SalePrice", "--drop", "Id", "--na", "fill", "--json")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "1168 training, 292 test rows")
	assert.Contains(t, stderr, "36 number and 42 text features → 295 inputs")
	assert.Contains(t, stderr, `left out column "Utilities": "AllPub" in every training row`, "its one other value is a held-out row's")
	res := decode(t, stdout)
	t.Logf("housing: R² %.4f, RMSE %.0f, MAE %.0f", res["test_r2"], res["test_rmse"], res["test_mae"])
	// scikit-learn's MLPRegressor reaches 0.88–0.90 on these held-out rows
	// (docs/results.md); gputrain's defaults with seed 1 reach 0.89.
	assert.Greater(t, res["test_r2"].(float64), 0.85)
}

// TestTableValRowsNotFitted: with --val, the rows training holds out for
// validation teach neither the table's encoding (fill values, categories)
// nor the model's scaling (means and deviations): an outlier and a new
// category put only in those rows leave the checkpoint's encoder and
// scaling as the clean file makes them, while without --val the same rows
// are training rows and move them.
func TestTableValRowsNotFitted(t *testing.T) {
	const val, seed = 0.25, 7
	dir := t.TempDir()
	clean := flatsCSV(t, dir, "clean.csv", 120, 0, true)
	opt := table.Options{Target: "price", Drop: []string{"id", "kind"}, NA: table.NAFill,
		TestFraction: 0.2, Seed: 1, ValFraction: val, ValSeed: seed}
	tb, err := table.Read(clean)
	require.NoError(t, err)
	_, sp, _, err := table.Fit(tb, nil, opt)
	require.NoError(t, err)
	_, held, err := sp.Train.HoldOut(val, seed) // as nn.Train holds them out
	require.NoError(t, err)
	// The areas of the flats are distinct: they name the held-out rows.
	heldArea := map[string]bool{}
	for i := range held.Rows {
		heldArea[strconv.FormatFloat(held.Feature(i, 0), 'f', -1, 64)] = true
	}
	require.Equal(t, "area", sp.Train.FeatureNames[0])
	rows := readCSV(t, clean)
	n := 0
	for _, r := range rows[1:] {
		if heldArea[r[1]] {
			r[2], r[3] = "outlier", "1000000" // district, floor
			n++
		}
	}
	require.Equal(t, held.Rows, n)
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	changed := filepath.Join(dir, "changed.csv")
	require.NoError(t, os.WriteFile(changed, []byte(b.String()), 0o644))

	fit := func(csv string, val string) (nn.Scaling, *table.Encoder) {
		ck := filepath.Join(dir, filepath.Base(csv)+val+".safetensors")
		code, _, stderr := gputrain(t, "--device", "cpu", "--csv", csv, "--target", "price", "--drop", "id,kind", "--na", "fill",
			"--epochs", "1", "--seed", strconv.Itoa(seed), "--val", val, "--save", ck)
		require.Equal(t, 0, code, stderr)
		m, err := nn.Load(ck, cpuref.New())
		require.NoError(t, err)
		defer m.Free()
		return m.Scaling, m.Table
	}
	wantSc, wantEnc := fit(clean, "0.25")
	gotSc, gotEnc := fit(changed, "0.25")
	assert.Equal(t, wantEnc, gotEnc, "encoder")
	assert.Equal(t, wantSc, gotSc, "scaling")
	assert.NotContains(t, gotEnc.FeatureNames(), "district=outlier")

	_, leakEnc := fit(changed, "0")
	assert.Contains(t, leakEnc.FeatureNames(), "district=outlier", "without --val the rows are training rows")
}
