package main

import (
	"context"
	"encoding/json"
	stdpng "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// quickSweep is a small sweep of the built-in digits on the CPU backend.
var quickSweep = []string{"sweep", "--device", "cpu", "--epochs", "2", "--hidden", "16,16x8", "--lr", "0.003,0.03"}

func TestSweepUsageErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"bad hidden", []string{"--hidden", "64,,32"}, `--hidden "64,,32": want architectures`},
		{"zero width", []string{"--hidden", "64x0"}, "--hidden"},
		{"repeated lr", []string{"--lr", "0.1,0.1"}, "--lr: 0.1 given twice"},
		{"bad lr", []string{"--lr", "0.1,x"}, `--lr: "x" is not a finite number`},
		{"zero lr", []string{"--lr", "0"}, "--lr 0 must be"},
		{"negative weight decay", []string{"--weight-decay", "0,-1e-4"}, "--weight-decay -0.0001 must be"},
		{"repeated weight decay", []string{"--weight-decay", "1e-4,0.0001"}, "--weight-decay: 0.0001 given twice"},
		{"bad weight decay", []string{"--weight-decay", "x"}, `--weight-decay: "x" is not a finite number`},
		{"bad schedule", []string{"--schedule", "cosine,linear"}, `--schedule: unknown schedule "linear"`},
		{"repeated schedule", []string{"--schedule", "cosine,cosine"}, "--schedule: cosine given twice"},
		{"companion of no listed schedule", []string{"--schedule", "constant,cosine", "--step-every", "3"}, "--step-every applies to --schedule step"},
		{"lr-min above an lr", []string{"--schedule", "cosine", "--lr", "0.01,0.001", "--lr-min", "0.005"}, "--lr-min 0.005 must be at least 0 and below --lr 0.001"},
		{"negative warmup", []string{"--schedule", "cosine", "--warmup", "-1"}, "--warmup -1"},
		{"negative clip", []string{"--clip-norm", "0,-1"}, "--clip-norm: clipping norm -1"},
		{"bad clip", []string{"--clip-norm", "x"}, `--clip-norm: "x" is not a finite number`},
		{"dropout of 1", []string{"--dropout", "0,1"}, "--dropout: dropout 1, want 0 (none) or a probability below 1"},
		{"repeated dropout", []string{"--dropout", "0.2,0.20"}, "--dropout: 0.2 given twice"},
		{"bad class weight", []string{"--class-weight", "0:x"}, "--class-weight"},
		{"activation", []string{"--activation", "relu,swish"}, `--activation "swish"`},
		{"optimizer", []string{"--optimizer", "adam,lbfgs"}, "--optimizer"},
		{"negative batch", []string{"--batch", "32,-1"}, "--batch: -1 must be at least 0"},
		{"seed and seeds", []string{"--seed", "1,2", "--seeds", "2"}, "--seed and --seeds"},
		{"seed 0", []string{"--seed", "0"}, "--seed: 0 must be at least 1"},
		{"zero seeds", []string{"--seeds", "0"}, "--seeds 0"},
		{"one fold", []string{"--folds", "1"}, "--folds 1"},
		{"folds and val", []string{"--folds", "3", "--val", "0.2"}, "--folds and --val"},
		{"val 0", []string{"--val", "0"}, "--val 0: a sweep ranks"},
		{"val 1", []string{"--val", "1"}, "--val 1 must be"},
		{"epochs", []string{"--epochs", "0"}, "--epochs 0"},
		{"early stop", []string{"--early-stop", "-1"}, "--early-stop -1"},
		{"metric", []string{"--metric", "f1"}, `--metric "f1"`},
		{"shard", []string{"--shard", "4/4"}, `--shard "4/4"`},
		{"shard and shards", []string{"--shard", "0/2", "--shards", "2"}, "--shard and --shards"},
		{"shards without index", []string{"--shards", "2"}, "JOB_COMPLETION_INDEX is not set"},
		{"save-best in a shard", []string{"--shard", "0/2", "--save-best", filepath.Join(dir, "m.safetensors")}, "--save-best with shard 0/2"},
		{"max memory", []string{"--max-memory", "lots"}, `--max-memory "lots"`},
		{"out is a folder", []string{"--out", dir}, "is a folder"},
		{"out and plot", []string{"--out", filepath.Join(dir, "x"), "--plot", filepath.Join(dir, "x")}, "both name"},
		{"table flag without csv", []string{"--device", "cpu", "--target", "y"}, "--target needs --csv"},
		{"accuracy of a regression", []string{"--device", "cpu", "--csv", "FLATS", "--target", "price", "--metric", "accuracy", "--na", "fill"}, "--metric accuracy"},
		{"stray argument", []string{"extra"}, `unexpected argument "extra"`},
		{"merge nothing", []string{"merge"}, "merge needs the shards' results files"},
		{"merge flag", []string{"merge", "--nope"}, "flag provided but not defined"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"sweep"}, tt.args...)
			for i, a := range args {
				if a == "FLATS" {
					args[i] = flatsCSV(t, t.TempDir(), "flats.csv", 60, 0, true)
				}
			}
			code, _, stderr := gputrain(t, args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, tt.want)
			assert.NotContains(t, stderr, "goroutine")
		})
	}
}

// sweepJSON is the part of sweep's JSON the tests read.
type sweepJSON struct {
	Fingerprint string `json:"fingerprint"`
	TrialCount  int    `json:"trial_count"`
	Data        struct {
		TrainRows int `json:"train_rows"`
		ValRows   int `json:"val_rows"`
	} `json:"data"`
	Trials []struct {
		Trial int    `json:"trial"`
		Seed  uint64 `json:"seed"`
		Folds []struct {
			BestEpoch int               `json:"best_epoch"`
			History   []json.RawMessage `json:"history"`
		} `json:"folds"`
	} `json:"trials"`
	Configs []struct {
		Rank    int      `json:"rank"`
		Models  int      `json:"models"`
		ValLoss *float64 `json:"val_loss"`
	} `json:"configs"`
	Best *struct {
		TestAccuracy *float64 `json:"test_accuracy"`
		Checkpoint   string   `json:"checkpoint"`
		Epochs       int      `json:"epochs"`
	} `json:"best"`
}

// TestSweepDoneWhen is the command, smaller: two learning rates,
// two architectures, two seeds, three folds on the built-in digits; it
// prints the table and writes the JSON, the plot and the best checkpoint,
// which eval takes.
func TestSweepDoneWhen(t *testing.T) {
	dir := t.TempDir()
	out, png, ck := filepath.Join(dir, "sweep.json"), filepath.Join(dir, "sweep.png"), filepath.Join(dir, "best.safetensors")
	args := append(append([]string{}, quickSweep...), "--seeds", "2", "--folds", "3", "--out", out, "--plot", png, "--save-best", ck)
	code, stdout, stderr := gputrain(t, args...)
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(stdout, "\n")
	require.GreaterOrEqual(t, len(lines), 6, stdout)
	assert.Contains(t, lines[0], "val loss")
	assert.Contains(t, lines[0], "val accuracy")
	for i := 1; i <= 4; i++ {
		assert.Regexp(t, `^\s+`+string(rune('0'+i))+`\s+(16|16x8)\s+sigmoid\s+adam\s+32\s+0\.0?03\s+6\s+\d\.\d{4} ± \d\.\d{4}\s+\d+\.\d\d% ± \d+\.\d\d%`, lines[i])
	}
	assert.Contains(t, stdout, "3-fold cross-validation")
	assert.Contains(t, stdout, "test: loss")
	assert.Contains(t, stdout, "(best configuration only)")
	assert.Contains(t, stdout, "model saved to "+ck)
	assert.Contains(t, stderr, "24 models in 2 model arrays")

	var doc sweepJSON
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Equal(t, 8, doc.TrialCount)
	assert.Len(t, doc.Trials, 8)
	assert.Equal(t, 1438/3, doc.Data.ValRows, "every fold validates on n/K rows")
	assert.Equal(t, 1438-1438/3, doc.Data.TrainRows)
	for _, tr := range doc.Trials {
		require.Len(t, tr.Folds, 3)
		for _, f := range tr.Folds {
			assert.Len(t, f.History, 2)
			assert.GreaterOrEqual(t, f.BestEpoch, 1)
		}
	}
	require.Len(t, doc.Configs, 4)
	for i, c := range doc.Configs {
		assert.Equal(t, i+1, c.Rank)
		assert.Equal(t, 6, c.Models)
		if i > 0 {
			assert.LessOrEqual(t, *doc.Configs[i-1].ValLoss, *c.ValLoss, "ranked by validation loss")
		}
	}
	require.NotNil(t, doc.Best)
	assert.Equal(t, ck, doc.Best.Checkpoint)
	assert.Equal(t, 2, doc.Best.Epochs)

	f, err := os.Open(png)
	require.NoError(t, err)
	img, err := stdpng.Decode(f)
	f.Close()
	require.NoError(t, err)
	assert.Greater(t, img.Bounds().Dx(), 800)

	code, evalOut, stderr := gputrain(t, "eval", "--device", "cpu", "--model", ck)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, evalOut, "accuracy")
	assert.Contains(t, evalOut, strings.TrimSpace(strings.SplitN(strings.SplitN(stdout, "accuracy ", 3)[1], " ", 2)[0]),
		"eval of the saved model gives the sweep's test accuracy")
}

// TestSweepShardsMerge runs a sweep in three shards (one by --shard, two
// from a Slurm and a Kubernetes environment) and merges them: the table and
// the results equal the single-process sweep's.
func TestSweepShardsMerge(t *testing.T) {
	dir := t.TempDir()
	args := append(append([]string{}, quickSweep...), "--seed", "3,5", "--val", "0.25")
	var files []string
	for i, setup := range []func(){
		func() {},
		func() {
			t.Setenv("SLURM_ARRAY_TASK_ID", "2")
			t.Setenv("SLURM_ARRAY_TASK_COUNT", "3")
			t.Setenv("SLURM_ARRAY_TASK_MIN", "1")
		},
		func() { os.Unsetenv("SLURM_ARRAY_TASK_ID"); t.Setenv("JOB_COMPLETION_INDEX", "2") },
	} {
		setup()
		f := filepath.Join(dir, "shard"+string(rune('0'+i))+".json")
		shard := []string{"--out", f}
		switch i {
		case 0:
			shard = append(shard, "--shard", "0/3")
		case 2:
			shard = append(shard, "--shards", "3")
		}
		code, stdout, stderr := gputrain(t, append(append([]string{}, args...), shard...)...)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "merge the shards")
		assert.NotContains(t, stdout, "test:", "a shard has no test figures")
		files = append(files, f)
	}
	os.Unsetenv("JOB_COMPLETION_INDEX")
	for i, f := range files {
		var doc sweepJSON
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &doc))
		assert.Nil(t, doc.Best)
		lo, hi := i*8/3, (i+1)*8/3
		require.Len(t, doc.Trials, hi-lo, f)
		assert.Equal(t, lo, doc.Trials[0].Trial, f)
	}
	code, merged, stderr := gputrain(t, "sweep", "merge", files[2], files[0], files[1])
	require.Equal(t, 0, code, stderr)
	code, single, stderr := gputrain(t, args...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, tableBlock(single), tableBlock(merged))
	assert.Contains(t, merged, "to retrain and save it: gputrain train --hidden")

	code, mergedJSON, stderr := gputrain(t, "sweep", "merge", "--json", files[0], files[1], files[2])
	require.Equal(t, 0, code, stderr)
	code, singleJSON, stderr := gputrain(t, append(args, "--json")...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, resultsWithoutRuns(t, singleJSON), resultsWithoutRuns(t, mergedJSON))

	// Refusals exit 1 and name the file.
	other := filepath.Join(dir, "other.json")
	code, _, stderr = gputrain(t, append(append([]string{}, quickSweep...), "--seed", "3,5", "--val", "0.3", "--shard", "1/3", "--out", other)...)
	require.Equal(t, 0, code, stderr)
	notJSON := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(notJSON, []byte("hello"), 0o644))
	for _, tt := range []struct {
		name  string
		files []string
		want  string
	}{
		{"missing", []string{files[0], files[2]}, "trials 2-4 of 8 are in none of the 2 files"},
		{"duplicate", []string{files[0], files[1], files[1], files[2]}, "trial 2 is in " + files[1] + " and in " + files[1]},
		{"other sweep", []string{files[0], other, files[2]}, other + " is another sweep than " + files[0]},
		{"not results", []string{files[0], notJSON}, notJSON + ": not sweep results"},
		{"absent", []string{files[0], filepath.Join(dir, "nope.json")}, "nope.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := gputrain(t, append([]string{"sweep", "merge"}, tt.files...)...)
			assert.Equal(t, 1, code, stderr)
			assert.Contains(t, stderr, tt.want)
		})
	}
}

// TestSweepRefusesWhatDoesNotFit: a memory limit below one model stops the
// sweep before any training, naming the configuration; one that fits a
// few models splits the array into chunks.
func TestSweepRefusesWhatDoesNotFit(t *testing.T) {
	code, _, stderr := gputrain(t, append(append([]string{}, quickSweep...), "--max-memory", "100KB")...)
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "does not fit the device")
	assert.Contains(t, stderr, "before any training")
	assert.NotContains(t, stderr, "array 1/")

	code, _, stderr = gputrain(t, append(append([]string{}, quickSweep...), "--hidden", "16", "--seeds", "3", "--max-memory", "400KB")...)
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `6 models in [2-5] model arrays`, stderr)
}

func TestSweepOnTableWithEarlyStop(t *testing.T) {
	csv := flatsCSV(t, t.TempDir(), "flats.csv", 120, 0, true)
	code, stdout, stderr := gputrain(t, "sweep", "--device", "cpu", "--csv", csv, "--target", "kind", "--drop", "id,price",
		"--lr", "0.01,0.03", "--epochs", "30", "--early-stop", "2", "--folds", "2", "--na", "fill")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "64x32", "a table's default architecture")
	assert.Contains(t, stdout, "relu")
	assert.Contains(t, stdout, "2-fold cross-validation")
	assert.Contains(t, stdout, "test: loss")
	assert.Contains(t, stderr, "early stopping after 2 epochs")
}

// gridJSON is the part of sweep --json that the grid-list tests read: the
// plan and each configuration's parameters and validation loss.
type gridJSON struct {
	Plan    map[string]any
	Configs []struct {
		Params  map[string]any
		ValLoss float64 `json:"val_loss"`
	}
}

// TestSweepScheduleClipClassWeight: --schedule and --clip-norm are grid
// lists and --class-weight weighs every model; the plan in the JSON says
// so, and the retrain command line carries them.
func TestSweepScheduleClipClassWeight(t *testing.T) {
	code, stdout, stderr := gputrain(t, "sweep", "--device", "cpu", "--hidden", "8", "--epochs", "3", "--digits", "0,1,2",
		"--schedule", "constant,step", "--step-every", "1", "--step-gamma", "0.5", "--warmup", "1", "--clip-norm", "0,0.01",
		"--class-weight", "0:2", "--json")
	require.Equal(t, 0, code, stderr)
	var doc gridJSON
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	assert.Equal(t, []any{"constant", "step"}, doc.Plan["schedule"])
	assert.Equal(t, []any{0.0, 0.01}, doc.Plan["clip_norm"])
	assert.Equal(t, map[string]any{"warmup": 1.0, "step_every": 1.0, "step_gamma": 0.5, "plateau_patience": 10.0, "plateau_factor": 0.1}, doc.Plan["schedule_params"])
	assert.Equal(t, []any{2.0, 1.0, 1.0}, doc.Plan["class_weights"])
	require.Len(t, doc.Configs, 4)
	losses := map[float64]bool{}
	for _, c := range doc.Configs {
		losses[c.ValLoss] = true
	}
	assert.Len(t, losses, 4, "each schedule and clipping norm trains differently")

	code, stdout, stderr = gputrain(t, "sweep", "--device", "cpu", "--hidden", "8", "--epochs", "2", "--digits", "0,1,2",
		"--schedule", "cosine", "--clip-norm", "0.5")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "schedule")
	assert.Contains(t, stdout, "clip norm")
	assert.Contains(t, stdout, "cosine")
}

func TestSweepInterruptExits130(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, stderr := gputrainCtx(t, ctx, quickSweep...)
	assert.Equal(t, 130, code, stderr)
	assert.Contains(t, stderr, "interrupted")
}

func TestSweepHelp(t *testing.T) {
	code, stdout, _ := gputrain(t, "help")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "sweep")
	code, _, stderr := gputrain(t, "help", "sweep")
	assert.Equal(t, 0, code)
	for _, s := range []string{"--hidden 64,128,128x64", "--folds K", "--shard I/N", "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX",
		"sweep merge", "-save-best", "-plot", "-out", "-early-stop", "n mod K", "docs/sweep.md"} {
		assert.Contains(t, stderr, s)
	}
}

// tableBlock is sweep's table: the lines up to the first blank one.
func tableBlock(out string) string {
	block, _, _ := strings.Cut(out, "\n\n")
	return block + "\n"
}

// resultsWithoutRuns is a sweep's JSON without the fields that say how
// and where it ran (runs) or the retrained best (a single run's only).
func resultsWithoutRuns(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m), s)
	delete(m, "runs")
	delete(m, "best")
	return m
}

// TestSweepDropout: --dropout is a grid list whose values train in arrays of
// their own; the plan, the table and the retrained configuration carry it.
func TestSweepDropout(t *testing.T) {
	code, stdout, stderr := gputrain(t, "sweep", "--device", "cpu", "--hidden", "8", "--epochs", "2", "--digits", "0,1,2",
		"--dropout", "0,0.3", "--json")
	require.Equal(t, 0, code, stderr)
	var doc gridJSON
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	assert.Equal(t, []any{0.0, 0.3}, doc.Plan["dropout"])
	require.Len(t, doc.Configs, 2)
	assert.NotEqual(t, doc.Configs[0].ValLoss, doc.Configs[1].ValLoss, "dropout trains differently")

	code, stdout, stderr = gputrain(t, "sweep", "--device", "cpu", "--hidden", "8", "--epochs", "2", "--digits", "0,1,2", "--dropout", "0.3")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "dropout")
	assert.Contains(t, stdout, "best: hidden 8, sigmoid, adam, batch 32, lr 0.01, dropout 0.3, retrained")
}
