package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/nn"
)

// The tests of the "When things go wrong" rows (docs/troubleshooting.md):
// each runs the command line and checks the exit status, the words of the
// message and that no file was damaged.

// readFile returns path's bytes, failing the test if it cannot.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// listDir returns the names in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestDivergenceWhileFinite: --lr 1e12 with SGD blows the loss up to 1e13
// in float64, without a NaN: train stops with exit status 1 at the first
// epoch's reading, names the steps and the loss and suggests a smaller
// --lr.
func TestDivergenceWhileFinite(t *testing.T) {
	code, stdout, stderr := gputrain(t, "train", "--device", "cpu", "--lr", "1e12", "--optimizer", "sgd", "--epochs", "3")
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "training diverged in epoch 1 between steps 1 and 45: mean loss 1.06656e+13 is more than 100 times")
	assert.Contains(t, stderr, "try a smaller --lr than 1e+12")
	assert.NotContains(t, stderr, "epoch 1/3", "the diverged epoch is not reported as trained")
	assert.Empty(t, stdout, "no test figures for a destroyed model")
}

// TestDivergenceKeepsCheckpoint: a full-batch epoch's loss is read before
// its update, so the blow-up of the first update shows only at the second
// epoch; the checkpoint of the first (already destroyed) is never written,
// and the one resumed from stays byte for byte.
func TestDivergenceKeepsCheckpoint(t *testing.T) {
	ck := filepath.Join(t.TempDir(), "model.safetensors")
	code, _, stderr := gputrain(t, append([]string{"--device", "cpu", "--save", ck}, small...)...)
	require.Equal(t, 0, code, stderr)
	before := readFile(t, ck)

	code, _, stderr = gputrain(t, "--device", "cpu", "--resume", ck, "--save", ck, "--batch", "0", "--optimizer", "sgd", "--lr", "1e12", "--epochs", "5")
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "epoch 2/6 (iteration 1): loss", "the first epoch of this run was sound")
	assert.Contains(t, stderr, "training diverged in epoch 3 at step 47", "global steps: 45 before this run, one per epoch since")
	assert.Contains(t, stderr, ck+" is kept as it was: this run wrote nothing to it")
	assert.True(t, bytes.Equal(before, readFile(t, ck)), "the last good checkpoint is kept byte for byte")
}

// TestSolveAndRegressDivergence: gradient descent past the stable step in
// solve and regress stops at the first logged loss past the limit.
func TestSolveAndRegressDivergence(t *testing.T) {
	code, stdout, stderr := gputrain(t, "solve", "--device", "cpu", "--lr", "0.2", "--iters", "50", "--every", "5")
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stdout, "iteration      0: loss 5.666666666666667")
	assert.Contains(t, stderr, "training diverged between iterations 1 and 5: loss 261998 is more than 100 times 5.66667, the loss at x = 0; try a smaller --lr than 0.2")

	f := lineCSV(t, t.TempDir())
	code, _, stderr = gputrain(t, "regress", "--device", "cpu", "--csv", f, "--x", "a,b", "--y", "y", "--lr", "5")
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "training diverged in epoch")
	assert.Contains(t, stderr, "more than 100 times")
	assert.Contains(t, stderr, "try a smaller --lr than 5")
}

// lineCSV writes a table y = 3a − 2b + 5 of 50 rows to dir/line.csv.
func lineCSV(t *testing.T, dir string) string {
	var sb strings.Builder
	sb.WriteString("a,b,y\n")
	for i := range 50 {
		x1, x2 := float64(i), float64((i*7)%11)
		sb.WriteString(strings.Join([]string{ftoa(x1), ftoa(x2), ftoa(3*x1 - 2*x2 + 5)}, ",") + "\n")
	}
	p := filepath.Join(dir, "line.csv")
	require.NoError(t, os.WriteFile(p, []byte(sb.String()), 0o644))
	return p
}

// unwritableDir is a folder no file can be created in, even by root.
func unwritableDir(t *testing.T) string {
	if os.Geteuid() != 0 {
		d := filepath.Join(t.TempDir(), "ro")
		require.NoError(t, os.Mkdir(d, 0o500))
		return d
	}
	if fi, err := os.Stat("/proc/self"); err != nil || !fi.IsDir() {
		t.Skip("running as root without /proc: no folder that refuses a new file")
	}
	return "/proc/self"
}

// TestOutputPathsCheckedFirst: every output flag's path is checked before
// any work — a folder, a missing folder, a folder that refuses files, a
// path that is an input, two outputs on one file: usage error (status 2),
// nothing computed (no device opened, no file written), inputs intact.
func TestOutputPathsCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	table := flatsCSV(t, dir, "flats.csv", 40, 0, true)
	tableBytes := readFile(t, table)
	ro := unwritableDir(t)
	missing := filepath.Join(dir, "no", "such")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"train --save a folder", []string{"--device", "cpu", "--save", dir}, "--save " + dir + " is a folder; give the path of a file in it, e.g. " + filepath.Join(dir, "model.safetensors")},
		{"train --save in a missing folder", []string{"--device", "cpu", "--save", filepath.Join(missing, "m.safetensors")}, "the folder " + missing + " does not exist; create it first"},
		{"train --save where no file can be created", []string{"--device", "cpu", "--save", filepath.Join(ro, "m.safetensors")}, "cannot write in the folder " + ro},
		{"train --plot a folder", []string{"--device", "cpu", "--plot", dir}, "--plot " + dir + " is a folder"},
		{"train --plot and --save on one file", []string{"--device", "cpu", "--save", filepath.Join(dir, "x"), "--plot", filepath.Join(dir, "x")}, "--save and --plot both name"},
		{"train --save over its --csv", []string{"--device", "cpu", "--csv", table, "--target", "kind", "--save", table}, "--save " + table + " is also the input --csv: writing the checkpoint would destroy it"},
		{"train --plot over its --resume", []string{"--device", "cpu", "--resume", filepath.Join(dir, "m.safetensors"), "--plot", filepath.Join(dir, "m.safetensors")}, "is also the input --resume: writing the plot would destroy it"},
		{"train --plot a device", []string{"--device", "cpu", "--plot", os.DevNull}, "is not a regular file"},
		{"predict --out a folder", []string{"predict", "--device", "cpu", "--model", filepath.Join(dir, "m"), "--csv", table, "--out", dir}, "--out " + dir + " is a folder"},
		{"predict --out over its --csv", []string{"predict", "--device", "cpu", "--model", filepath.Join(dir, "m"), "--csv", table, "--out", table}, "is also the input --csv"},
		{"predict --out in a missing folder", []string{"predict", "--device", "cpu", "--model", filepath.Join(dir, "m"), "--csv", table, "--out", filepath.Join(missing, "p.csv")}, "does not exist"},
		{"bench --csv a folder", []string{"bench", "--device", "cpu", "--csv", dir}, "--csv " + dir + " is a folder"},
		{"bench --plot in a missing folder", []string{"bench", "--device", "cpu", "--plot", filepath.Join(missing, "b.png")}, "does not exist"},
		{"download --dir a file", []string{"download", "mnist", "--dir", table}, "--dir " + table + " is a file, not a folder"},
		{"download --dir where no file can be created", []string{"download", "mnist", "--dir", filepath.Join(ro, "mnist")}, "cannot write in the folder " + ro},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := listDir(t, dir)
			code, stdout, stderr := gputrain(t, tt.args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, tt.want)
			assert.NotContains(t, stderr, "device:", "no device opened")
			assert.NotContains(t, stderr, "table:", "no data read")
			assert.NotContains(t, stderr, "downloading")
			assert.Empty(t, stdout)
			assert.Equal(t, before, listDir(t, dir), "no file written")
			assert.True(t, bytes.Equal(tableBytes, readFile(t, table)), "the input is intact")
		})
	}
}

// rescue makes the next output write meet a folder removed after the
// checks passed, as a user might remove it during a run, and sends the
// fallback to a fresh temporary folder, which it returns.
func rescue(t *testing.T, remove string) string {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	testHookWrite = func(string) { os.RemoveAll(remove) }
	t.Cleanup(func() { testHookWrite = nil })
	return tmp
}

// rescued returns the one file in dir named as a rescued copy of base.
func rescued(t *testing.T, dir, base string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "gputrain-rescued-*-"+base))
	require.NoError(t, err)
	require.Len(t, m, 1, "one rescued %s in %s", base, dir)
	return m[0]
}

// TestOutputRescued: when writing fails at the end (here: the folder is
// removed after the checks), the result goes to a fallback file that the
// message names, and the status is 1: nothing computed is lost.
func TestOutputRescued(t *testing.T) {
	t.Run("train --save and --plot", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		require.NoError(t, os.Mkdir(out, 0o755))
		tmp := rescue(t, out)
		ck, png := filepath.Join(out, "m.safetensors"), filepath.Join(out, "curve.png")
		code, stdout, stderr := gputrain(t, "--device", "cpu", "--epochs", "3", "--hidden", "8", "--save", ck, "--plot", png)
		assert.Equal(t, 1, code, stderr)
		got := rescued(t, tmp, "m.safetensors")
		assert.Contains(t, stderr, "warning: --save: could not write the checkpoint to "+ck)
		assert.Contains(t, stderr, "it was written to "+got+" instead; training goes on, saving there")
		assert.Contains(t, stdout, "model saved to "+got)
		m, err := nn.Load(got, cpuref.New())
		require.NoError(t, err)
		defer m.Free()
		assert.Equal(t, 3, m.Info.Epoch, "the rescued checkpoint holds the end of the run")
		gotPNG := rescued(t, tmp, "curve.png")
		assert.Contains(t, stderr, "--plot: could not write the plot to "+png)
		assert.Contains(t, stdout, "plot written to "+gotPNG)
		assert.Equal(t, "\x89PNG", string(readFile(t, gotPNG)[:4]))
	})
	t.Run("predict --out", func(t *testing.T) {
		dir := t.TempDir()
		table := flatsCSV(t, dir, "flats.csv", 40, 0, true)
		ck := filepath.Join(dir, "m.safetensors")
		code, _, stderr := gputrain(t, "--device", "cpu", "--csv", table, "--target", "kind", "--drop", "id,price", "--na", "fill", "--epochs", "2", "--save", ck)
		require.Equal(t, 0, code, stderr)
		out := filepath.Join(dir, "out")
		require.NoError(t, os.Mkdir(out, 0o755))
		tmp := rescue(t, out)
		code, _, stderr = gputrain(t, "predict", "--device", "cpu", "--model", ck, "--csv", table, "--out", filepath.Join(out, "p.csv"))
		assert.Equal(t, 1, code, stderr)
		got := rescued(t, tmp, "p.csv")
		assert.Contains(t, stderr, "predictions for 40 rows written to "+got)
		assert.Contains(t, stderr, "it was written to "+got+" instead")
		assert.Equal(t, 41, len(readCSV(t, got)), "a header and 40 predictions")
	})
	t.Run("bench --csv", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		require.NoError(t, os.Mkdir(out, 0o755))
		tmp := rescue(t, out)
		code, _, stderr := gputrain(t, "bench", "--device", "cpu", "--batch", "8", "--hidden", "8", "--data", "random", "--steps", "2", "--reps", "1",
			"--csv", filepath.Join(out, "b.csv"))
		assert.Equal(t, 1, code, stderr)
		got := rescued(t, tmp, "b.csv")
		assert.Contains(t, stderr, "--csv: could not write the results to "+filepath.Join(out, "b.csv"))
		assert.Contains(t, stderr, "it was written to "+got+" instead")
		assert.Len(t, readCSV(t, got), 2, "a header and one result")
	})
}

// TestResumeContradictions: with --resume, a model-defining flag given
// explicitly that differs from the checkpoint is an error naming both
// values (before any work; the checkpoint untouched), and flags left out
// take the checkpoint's values, which the banner says; eval and predict
// --model likewise for the classes.
func TestResumeContradictions(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "d38.safetensors")
	code, _, stderr := gputrain(t, "--device", "cpu", "--digits", "3,8", "--hidden", "8", "--epochs", "1", "--save", ck)
	require.Equal(t, 0, code, stderr)
	ten := plainModel(t, dir) // all ten digits, hidden 4
	before := readFile(t, ck)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"--hidden", []string{"--resume", ck, "--save", ck, "--hidden", "32"}, ck + ": --hidden 32 contradicts the checkpoint, whose model has hidden layers 8"},
		{"--activation", []string{"--resume", ck, "--save", ck, "--activation", "relu"}, "--activation relu contradicts the checkpoint, whose model has activation sigmoid"},
		{"--digits", []string{"--resume", ck, "--save", ck, "--digits", "0,1"}, "--digits 0,1 contradicts the checkpoint, whose model has classes 3,8 of its data"},
		{"--digits on a ten-class model", []string{"--resume", ten, "--save", ck, "--digits", "0,1"}, ten + ": the model predicts 10 classes (a softmax head) but digits train (classes 0,1) has 2"},
		{"--csv on an image model", []string{"--resume", ck, "--csv", ck, "--target", "y"}, "this model was not trained on a table"},
		{"eval --digits", []string{"eval", "--model", ck, "--digits", "0,1"}, ck + ": --digits 0,1 contradicts the model, trained on classes 3,8 of its data"},
		{"predict --digits", []string{"predict", "--model", ck, "--digits", "3,9"}, "--digits 3,9 contradicts the model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{tt.args[0], "--device", "cpu"}, tt.args[1:]...)
			if strings.HasPrefix(tt.args[0], "--") {
				args = append([]string{"--device", "cpu"}, tt.args...)
			}
			code, _, stderr := gputrain(t, args...)
			assert.Equal(t, 1, code, stderr)
			assert.Contains(t, stderr, tt.want)
			assert.NotContains(t, stderr, "epoch ", "nothing trained")
			assert.True(t, bytes.Equal(before, readFile(t, ck)), "the checkpoint is untouched")
		})
	}

	code, _, stderr = gputrain(t, "--device", "cpu", "--resume", ck, "--epochs", "1", "--preset", "tutorial")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "model:  64-8-1 sigmoid binary")
	assert.Contains(t, stderr, "resumed from "+ck+" after epoch 1; from the checkpoint: --hidden 8, --activation sigmoid, --digits 3,8",
		"the preset's --hidden 128,128 and --digits 0,1 are defaults, not contradictions")
	assert.Contains(t, stderr, "digits (classes 3,8)")

	code, stdout, stderr := gputrain(t, "eval", "--device", "cpu", "--model", ck)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "data:   classes 3,8, from the model")
	assert.Contains(t, stdout, "rows of digits test (classes 3,8)")
}

// TestResumeEarlyStopNeedsValidation: --early-stop on a checkpoint that
// holds no validation split, without --val, is a usage error naming both
// flags, given before the device is opened; with --val a new split is held
// out.
func TestResumeEarlyStopNeedsValidation(t *testing.T) {
	ck := plainModel(t, t.TempDir())
	before := readFile(t, ck)
	code, _, stderr := gputrain(t, "--device", "cpu", "--resume", ck, "--save", ck, "--early-stop", "2", "--epochs", "1")
	assert.Equal(t, 2, code, stderr)
	assert.Contains(t, stderr, "--early-stop needs a validation set, and the --resume checkpoint "+ck+" has none: add --val FRACTION")
	assert.NotContains(t, stderr, "device:", "refused before the device is opened")
	assert.True(t, bytes.Equal(before, readFile(t, ck)), "the checkpoint is untouched")

	code, _, stderr = gputrain(t, "--device", "cpu", "--resume", ck, "--early-stop", "2", "--val", "0.2", "--epochs", "1")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "validation 0.2 of the training set (seed 1), early stopping after 2 epochs")
}

// TestWrongClassesBeforeDevice: a model given data with another number of
// classes (or inputs) is refused with both counts named, before a device is
// opened, by train --resume, eval and predict.
func TestWrongClassesBeforeDevice(t *testing.T) {
	ten := plainModel(t, t.TempDir())
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"train --resume", []string{"--resume", ten, "--digits", "0,1"}, ten + ": the model predicts 10 classes (a softmax head) but digits train (classes 0,1) has 2"},
		{"eval", []string{"eval", "--model", ten, "--digits", "0,1"}, ten + ": the model predicts 10 classes but digits test (classes 0,1) has 2"},
		{"predict", []string{"predict", "--model", ten, "--digits", "0,1,2"}, ten + ": the model predicts 10 classes but digits test (classes 0,1,2) has 3"},
		{"eval inputs", []string{"eval", "--model", ten, "--data", "synthetic"}, ten + ": the model takes 64 inputs but synthetic digits (generated) test has 784 features per row"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := gputrain(t, append(tt.args, "--device", "cpu")...)
			assert.Equal(t, 1, code, stderr)
			assert.Contains(t, stderr, tt.want)
			assert.NotContains(t, stderr, "device:", "refused before the device is opened")
		})
	}
}

// TestResumeTableContradictions: the same for a model trained on a table:
// --target, --task, --features, --drop and --na given against the
// checkpoint are errors; --target left out is the checkpoint's.
func TestResumeTableContradictions(t *testing.T) {
	dir := t.TempDir()
	table := flatsCSV(t, dir, "flats.csv", 40, 0, true)
	ck := filepath.Join(dir, "m.safetensors")
	code, _, stderr := gputrain(t, "--device", "cpu", "--csv", table, "--target", "price", "--drop", "id,kind", "--na", "fill", "--epochs", "1", "--hidden", "8", "--save", ck)
	require.Equal(t, 0, code, stderr)
	before := readFile(t, ck)
	base := []string{"--device", "cpu", "--resume", ck, "--save", ck, "--csv", table, "--epochs", "1"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"--target", []string{"--target", "kind"}, `--target kind contradicts the checkpoint, whose model has the target "price"`},
		{"--task", []string{"--task", "classify"}, "--task classify contradicts the checkpoint, whose model has the task regress"},
		{"--features", []string{"--features", "area,floor"}, "--features area,floor contradicts the checkpoint, whose model has the features area,district,floor"},
		{"--drop", []string{"--drop", "id,floor"}, `--drop id,floor contradicts the checkpoint, whose model has "floor" as a feature`},
		{"--na", []string{"--na", "drop"}, "--na drop contradicts the checkpoint, whose model has the NA policy fill"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := gputrain(t, append(append([]string{}, base...), tt.args...)...)
			assert.NotEqual(t, 0, code, stderr)
			assert.Contains(t, stderr, tt.want)
			assert.NotContains(t, stderr, "epoch ", "nothing trained")
			assert.True(t, bytes.Equal(before, readFile(t, ck)), "the checkpoint is untouched")
		})
	}
	code, _, stderr = gputrain(t, "--device", "cpu", "--resume", ck, "--epochs", "1")
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, ck+`: this model was trained on a table (target "price"): resume it with --csv FILE`)
	assert.True(t, bytes.Equal(before, readFile(t, ck)))

	code, stdout, stderr := gputrain(t, append(base, "--task", "regress", "--json")...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "from the checkpoint: --hidden 8, --activation relu, --target price, the table encoding (3 feature columns, regress, --na fill)")
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	assert.EqualValues(t, 2, res["history"].([]any)[0].(map[string]any)["epoch"])
}

// TestDegenerateRegress: regress names the column that makes a fit
// meaningless instead of fitting it, and reports the closed form only for
// a well-conditioned design.
func TestDegenerateRegress(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	cols := write("cols.csv", "a,b,c,y,a2\n1,2,5,3,1\n2,4,5,5,2\n3,6,5,8,3\n4,8,5,8.5,4\n5,1,5,9,5\n")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"a constant column", []string{"--csv", cols, "--x", "a,c", "--y", "y"}, 1, `cols.csv: column "c" holds 5 in all 5 rows: a constant column's coefficient cannot be told apart from the intercept; leave it out`},
		{"a constant target", []string{"--csv", cols, "--x", "a", "--y", "c"}, 1, `cols.csv: the target "c" holds 5 in all 5 rows: nothing to fit`},
		{"fewer rows than coefficients", []string{"--csv", write("few.csv", "a,b,y\n1,2,3\n2,1,5\n"), "--x", "a,b", "--y", "y"}, 1,
			"few.csv: 2 rows for 3 coefficients (2 features and the intercept): the fit is not determined; give at least 3 rows, or fewer features"},
		{"a column given twice", []string{"--csv", cols, "--x", "a,a", "--y", "y"}, 1, `cols.csv: feature column "a" given twice`},
		{"a column named twice in the header", []string{"--csv", write("dup.csv", "a,b,a,y\n1,2,3,4\n"), "--x", "a", "--y", "y"}, 1, `dup.csv: header: column "a" appears twice (columns 1 and 3)`},
		{"the target as a feature", []string{"--csv", cols, "--x", "a,y", "--y", "y"}, 1, `cols.csv: column "y" is both a feature and the target`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := gputrain(t, append([]string{"regress", "--device", "cpu"}, tt.args...)...)
			assert.Equal(t, tt.code, code, stderr)
			assert.Contains(t, stderr, tt.want)
			assert.NotContains(t, stderr, "device:", "named before any work")
			assert.NotContains(t, stdout, "≈", "no coefficients")
		})
	}

	// a2 is a copy of a: the fit exists, the coefficients of a and a2 one by
	// one do not.
	code, stdout, stderr := gputrain(t, "regress", "--device", "cpu", "--csv", cols, "--x", "a,a2,b", "--y", "y")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "closed-form least squares: not reported: the standardised design's condition number is")
	assert.Contains(t, stdout, "above 1e+05: the features are nearly collinear")
	assert.NotContains(t, stdout, "closed form:")
	code, stdout, stderr = gputrain(t, "regress", "--device", "cpu", "--csv", cols, "--x", "a,a2,b", "--y", "y", "--json")
	require.Equal(t, 0, code, stderr)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	assert.Nil(t, res["closed_form"])
	assert.Contains(t, res["closed_form_note"], "not reported")
	code, stdout, stderr = gputrain(t, "regress", "--device", "cpu", "--csv", cols, "--x", "a,b", "--y", "y")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "closed-form least squares: coefficients [", "well conditioned: reported")
	assert.Contains(t, stdout, "(condition number 1.")
}

// TestDegenerateTables: train --csv leaves out a column that is constant in
// the training rows (and says so) when the features are every other column,
// and refuses one that --features names; and names the other degenerate
// tables (a target of one value, a column named twice, the target as a
// feature).
func TestDegenerateTables(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("x,const,label,y,one\n")
	for i := range 30 {
		b.WriteString(strings.Join([]string{ftoa(float64(i)), "7", []string{"a", "b"}[i%2], ftoa(float64(i * i)), "k"}, ",") + "\n")
	}
	p := filepath.Join(dir, "t.csv")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	holed := filepath.Join(dir, "holed.csv")
	require.NoError(t, os.WriteFile(holed, []byte("k,n,y\n5,1,1\n5,2,2\nNA,3,3\n5,4,4\n5,5,5\n5,6,6\n"), 0o644))
	dup := filepath.Join(dir, "dup.csv")
	require.NoError(t, os.WriteFile(dup, []byte("x,x,y\n1,2,3\n2,3,4\n3,4,5\n"), 0o644))

	code, _, stderr := gputrain(t, "--device", "cpu", "--csv", p, "--target", "y", "--epochs", "1", "--hidden", "4")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, `left out column "const": "7" in every training row, nothing to learn from`)
	assert.Contains(t, stderr, `left out column "one": "k" in every training row`)
	assert.Contains(t, stderr, "1 number and 1 text features → 3 inputs")

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"--features names a constant column", []string{"--csv", p, "--target", "y", "--features", "x,const"},
			`t.csv: column "const" holds one value, "7", in every training row: as an input it carries nothing to learn from; leave it out of --features`},
		{"a constant column with missing cells under --na drop", []string{"--csv", holed, "--target", "y", "--na", "drop", "--task", "regress"},
			`holed.csv: column "k" holds one value, "5", in every training row, and its missing cells (line 4, …) dropped rows under NA policy drop: leave it out (--drop k)`},
		{"a target of one value", []string{"--csv", p, "--target", "const", "--task", "regress"}, `column "const": the target has the single value 7 in the training rows: nothing to learn`},
		{"a column named twice", []string{"--csv", dup, "--target", "y"}, `dup.csv: line 1: column "x" appears twice in the header (columns 1 and 2)`},
		{"the target as a feature", []string{"--csv", p, "--target", "y", "--features", "x,y"}, `t.csv: column "y" is both a feature and the target`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := gputrain(t, append([]string{"--device", "cpu", "--epochs", "1"}, tt.args...)...)
			assert.Equal(t, 1, code, stderr)
			assert.Contains(t, stderr, tt.want)
			assert.NotContains(t, stderr, "device:", "named before any work")
		})
	}
}

// TestCheckpointerVouches: the file only ever holds a state that a later
// epoch vouched for: a held state is written when the next epoch ends
// without diverging, and dropped when it does not; the message says which
// epoch the file holds.
func TestCheckpointerVouches(t *testing.T) {
	b := cpuref.New()
	m, err := nn.NewModel(b, nn.Spec{Inputs: 2, Hidden: []int{3}, Outputs: 1, Activation: backend.Tanh, Head: nn.BinaryHead}, 1)
	require.NoError(t, err)
	defer m.Free()
	path := filepath.Join(t.TempDir(), "m.safetensors")
	var errb bytes.Buffer
	c := newCheckpointer(&env{stderr: &errb}, path)

	require.NoError(t, c.Hold(m, 1))
	assert.NoFileExists(t, path, "held, not written")
	epoch1, err := m.Checkpoint()
	require.NoError(t, err)
	require.NoError(t, c.Vouch()) // epoch 2 ended sound
	assert.Equal(t, epoch1, readFile(t, path))

	ps, err := m.Params()
	require.NoError(t, err)
	ps[0].W[0] = 1e30 // epoch 2's update blew the weights up
	require.NoError(t, m.SetParams(ps))
	require.NoError(t, c.Hold(m, 2))
	// Epoch 3 diverges: nothing more is vouched for.
	assert.Equal(t, epoch1, readFile(t, path), "the last vouched state, byte for byte")
	assert.Equal(t, "the checkpoint in "+path+" is kept: epoch 1, the last state a later loss reading vouched for", c.kept())
	assert.Empty(t, errb.String())
}
