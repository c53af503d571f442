package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	stdpng "image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/cmd/gputrain/internal/tutorial"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/fit"
	"github.com/gputrain/gputrain/gpu/gputest"
	"github.com/gputrain/gputrain/internal/shareddata"
	"github.com/gputrain/gputrain/nn"
)

// gputrain runs the command line in-process and returns its exit status,
// stdout and stderr.
func gputrain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return gputrainCtx(t, context.Background(), args...)
}

func gputrainCtx(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// small keeps CLI training tests fast: one epoch of a narrow network.
var small = []string{"--epochs", "1", "--hidden", "16"}

func TestUsageErrorsExit2(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"unknown flag", []string{"train", "--nope"}, "flag provided but not defined"},
		{"negative batch", []string{"--batch", "-1"}, "--batch -1"},
		{"zero epochs", []string{"--epochs", "0"}, "--epochs 0"},
		{"zero hidden", []string{"--hidden", "128,0"}, "--hidden: 0 must be at least 1"},
		{"bad hidden", []string{"--hidden", "12x"}, `"12x" is not an integer`},
		{"zero lr", []string{"--lr", "0"}, "--lr 0"},
		{"negative lr", []string{"--lr", "-1"}, "--lr -1"},
		{"NaN lr", []string{"--lr", "NaN"}, "--lr NaN"},
		{"Inf lr", []string{"--lr", "Inf"}, "--lr +Inf"},
		{"negative weight decay", []string{"--weight-decay", "-0.1"}, "--weight-decay -0.1 must be"},
		{"NaN weight decay", []string{"--optimizer", "adamw", "--weight-decay", "NaN"}, "--weight-decay NaN"},
		{"unknown schedule", []string{"--schedule", "linear"}, `--schedule: unknown schedule "linear"`},
		{"negative clip-norm", []string{"--clip-norm", "-1"}, "--clip-norm -1 must be 0 (off) or a positive finite number"},
		{"negative dropout", []string{"--dropout", "-0.1"}, "--dropout -0.1 must be at least 0 (0 = off) and below 1"},
		{"dropout of 1", []string{"--dropout", "1"}, "--dropout 1 must be at least 0 (0 = off) and below 1"},
		{"NaN dropout", []string{"--dropout", "NaN"}, "--dropout NaN must be"},
		{"bad class weight", []string{"--class-weight", "0:x"}, `--class-weight "0:x": want balanced or CLASS:WEIGHT pairs`},
		{"negative class weight", []string{"--class-weight", "0:-1"}, "--class-weight: class 0's weight -1 must be"},
		{"class weight twice", []string{"--class-weight", "0:1,0:2"}, "--class-weight: class 0 given twice"},
		{"class weight outside the classes", []string{"--device", "cpu", "--digits", "0,1", "--class-weight", "2:3"}, "--class-weight: class 2, but the model has classes 0..1"},
		{"step flag without step", []string{"--schedule", "cosine", "--step-every", "3"}, "--step-every applies to --schedule step, not cosine"},
		{"plateau flag without plateau", []string{"--plateau-factor", "0.5"}, "--plateau-factor applies to --schedule plateau, not constant"},
		{"lr-min without cosine", []string{"--lr-min", "0.001"}, "--lr-min applies to --schedule cosine or plateau"},
		{"lr-min above lr", []string{"--schedule", "cosine", "--lr", "0.01", "--lr-min", "0.1"}, "--lr-min 0.1 must be at least 0 and below --lr 0.01"},
		{"negative warmup", []string{"--warmup", "-1"}, "--warmup -1"},
		{"zero step-every", []string{"--schedule", "step", "--step-every", "0"}, "--step-every 0 must be at least 1"},
		{"step-gamma above 1", []string{"--schedule", "step", "--step-gamma", "2"}, "--step-gamma 2 must be in (0, 1]"},
		{"plateau-factor 1", []string{"--schedule", "plateau", "--plateau-factor", "1"}, "--plateau-factor 1 must be in (0, 1)"},
		{"zero plateau-patience", []string{"--schedule", "plateau", "--plateau-patience", "0"}, "--plateau-patience 0 must be at least 1"},
		{"unknown device", []string{"--device", "tpu"}, `unknown --device "tpu"`},
		{"unknown activation", []string{"--activation", "swish"}, `--activation "swish"`},
		{"unknown optimizer", []string{"--optimizer", "lbfgs"}, "--optimizer"},
		{"one digit", []string{"--digits", "3"}, "at least two classes"},
		{"val of 1", []string{"--val", "1"}, "--val 1 must be a fraction"},
		{"negative val", []string{"--val", "-0.1"}, "--val -0.1"},
		{"early stop without val", []string{"--device", "cpu", "--early-stop", "3"}, "--early-stop needs a validation set"},
		{"negative early stop", []string{"--early-stop", "-1"}, "--early-stop -1"},
		{"negative log-every", []string{"--log-every", "-1"}, "--log-every -1"},
		{"unknown preset", []string{"--preset", "keras"}, `unknown --preset "keras" (want tutorial)`},
		{"stray argument", []string{"train", "extra"}, `unexpected argument "extra"`},
		{"solve ragged", []string{"solve", "--a", "1,2;3", "--y", "1,2"}, "row 2 has 1 values"},
		{"solve y length", []string{"solve", "--y", "1,2"}, "--y has 2 values"},
		{"regress missing flags", []string{"regress"}, "--csv, --x and --y are required"},
		{"regress bad na", []string{"regress", "--csv", "x.csv", "--x", "a", "--y", "b", "--na", "maybe"}, "--na"},
		{"eval without model", []string{"eval"}, "--model is required"},
		{"download what", []string{"download", "cifar"}, "usage: gputrain download mnist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := gputrain(t, tt.args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, tt.want)
			assert.NotContains(t, stderr, "goroutine", "no stack traces")
		})
	}
}

func TestRuntimeErrorsExit1(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing data dir", []string{"--device", "cpu", "--data", filepath.Join(dir, "nope")}, "nope"},
		{"empty data dir", []string{"--device", "cpu", "--data", dir}, "train-images-idx3-ubyte"},
		{"digit not in data", []string{"--device", "cpu", "--digits", "3,11"}, "11"},
		{"adapter not present", []string{"--device", "metal"}, "metal"},
		{"missing checkpoint", []string{"eval", "--device", "cpu", "--model", filepath.Join(dir, "m.safetensors")}, "m.safetensors"},
		{"missing csv", []string{"regress", "--device", "cpu", "--csv", filepath.Join(dir, "h.csv"), "--x", "a", "--y", "b"}, "h.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := gputrain(t, tt.args...)
			assert.Equal(t, 1, code, stderr)
			assert.Contains(t, stderr, tt.want)
			assert.NotContains(t, stderr, "goroutine", "no stack traces")
		})
	}
}

func TestTrainJSONOnCPU(t *testing.T) {
	code, stdout, stderr := gputrain(t, append([]string{"--device", "cpu", "--json"}, small...)...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "device: cpu")
	assert.Contains(t, stderr, "real handwritten digits built into gputrain")
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &res), stdout)
	for _, k := range []string{"device", "backend", "adapter", "epochs", "test_loss", "test_accuracy", "samples_per_second", "history"} {
		assert.Contains(t, res, k)
	}
	assert.NotContains(t, res, "best_epoch", "no validation, no best epoch")
	assert.Equal(t, "cpu", res["device"])
	assert.Equal(t, "digits train", res["data"])
	assert.Equal(t, false, res["synthetic"])
	assert.Greater(t, res["test_accuracy"].(float64), 0.5, "far above chance (0.1) after one epoch")
	h := res["history"].([]any)[0].(map[string]any)
	for _, k := range []string{"epoch", "steps", "samples", "loss", "accuracy", "samples_per_second", "seconds"} {
		assert.Contains(t, h, k)
	}
	assert.Nil(t, h["val_loss"], "null without --val")
	assert.Nil(t, h["val_accuracy"])
	assert.EqualValues(t, 1438, h["samples"])
}

// TestDefaultTrainsOnDigits is the README's first command: no data flag,
// no files, the real digits, at least 95 % test accuracy.
func TestDefaultTrainsOnDigits(t *testing.T) {
	code, stdout, stderr := gputrain(t, "--device", "cpu", "--json")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "digits: real handwritten digits built into gputrain (UCI, 8x8, no files or network needed), 1438 training and 359 test images")
	var res trainResult
	require.NoError(t, json.Unmarshal([]byte(stdout), &res), stdout)
	assert.Equal(t, "64-128-64-10 sigmoid softmax", res.Model)
	assert.Equal(t, 20, res.Epochs)
	assert.GreaterOrEqual(t, res.TestAccuracy, 0.95)
	t.Logf("default run: test accuracy %.4f, %.2fs", res.TestAccuracy, res.Seconds)
}

func TestSyntheticData(t *testing.T) {
	code, stdout, stderr := gputrain(t, append([]string{"--device", "cpu", "--data", "synthetic", "--json"}, small...)...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "synthetic digits generated by gputrain")
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &res), stdout)
	assert.Equal(t, true, res["synthetic"])
	assert.Greater(t, res["test_accuracy"].(float64), 0.5, "far above chance (0.1) after one epoch")
}

// TestValidationAndEarlyStop: --val holds out a stratified part of the
// training set, every epoch reports validation figures, and --early-stop
// ends the run and keeps the best epoch, whose weights the test figures and
// the checkpoint use.
func TestValidationAndEarlyStop(t *testing.T) {
	ck := filepath.Join(t.TempDir(), "m.safetensors")
	code, stdout, stderr := gputrain(t, "--device", "cpu", "--val", "0.2", "--early-stop", "2", "--epochs", "200",
		"--hidden", "32", "--lr", "0.03", "--save", ck, "--json")
	require.Equal(t, 0, code, stderr)
	var res trainResult
	require.NoError(t, json.Unmarshal([]byte(stdout), &res), stdout)
	require.NotNil(t, res.BestEpoch)
	require.NotNil(t, res.StoppedEarly)
	assert.True(t, *res.StoppedEarly, "a lr this high stops improving well within 200 epochs")
	assert.Len(t, res.History, *res.BestEpoch+2)
	best := res.History[*res.BestEpoch-1]
	assert.True(t, best.Best)
	assert.Contains(t, stderr, fmt.Sprintf("early stop: no lower validation loss in the 2 epochs after epoch %d", *res.BestEpoch))
	for _, h := range res.History {
		require.NotNil(t, h.ValLoss)
		require.NotNil(t, h.ValAccuracy)
		assert.GreaterOrEqual(t, *h.ValLoss, *best.ValLoss)
		assert.Equal(t, 1151, h.Samples, "1438 less round(0.2·n) of each class's n rows (287)")
	}
	assert.Equal(t, best.Loss, res.TrainLoss, "the training figures are the kept epoch's")

	// The checkpoint holds the kept weights: eval gives the test figures of
	// the run.
	code, stdout, stderr = gputrain(t, "eval", "--device", "cpu", "--model", ck, "--json")
	require.Equal(t, 0, code, stderr)
	var ev trainResult
	require.NoError(t, json.Unmarshal([]byte(stdout), &ev))
	assert.InDelta(t, res.TestLoss, ev.TestLoss, 1e-12)

	// Resuming keeps the validation split and the early-stopping state:
	// no --val or --early-stop given, and the best epoch is remembered.
	code, stdout, stderr = gputrain(t, "--device", "cpu", "--resume", ck, "--epochs", "30", "--lr", "0.03", "--json")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "validation 0.2 of the training set (seed 1), early stopping after 2 epochs")
	var more trainResult
	require.NoError(t, json.Unmarshal([]byte(stdout), &more))
	require.NotEmpty(t, more.History)
	assert.Equal(t, len(res.History)+1, more.History[0].Epoch)
	assert.Equal(t, 1151, more.History[0].Samples, "the same rows held out")
	require.NotNil(t, more.BestEpoch)
	if !more.History[0].Best {
		// The run had already gone 2 epochs without a better loss.
		assert.Equal(t, *res.BestEpoch, *more.BestEpoch, "no better epoch: the old best stands")
		assert.Len(t, more.History, 1, "the count since the best went on")
		assert.True(t, *more.StoppedEarly)
	}

	// --val 0 turns the checkpoint's validation (and so its early stopping) off.
	code, stdout, stderr = gputrain(t, "--device", "cpu", "--resume", ck, "--val", "0", "--epochs", "1", "--json")
	require.Equal(t, 0, code, stderr)
	var off trainResult
	require.NoError(t, json.Unmarshal([]byte(stdout), &off))
	assert.Nil(t, off.BestEpoch)
	assert.Nil(t, off.History[0].ValLoss)
	assert.Equal(t, 1438, off.History[0].Samples)
}

// TestTutorialPreset: --preset tutorial is the configuration of package
// tutorial (its first steps reproduce tutorial.Run's exactly), logs like the
// tutorial, and explicit flags win over it.
func TestTutorialPreset(t *testing.T) {
	code, stdout, stderr := gputrain(t, "--preset", "tutorial", "--device", "cpu", "--epochs", "25", "--log-every", "10", "--json")
	require.Equal(t, 0, code, stderr)
	var res trainResult
	require.NoError(t, json.Unmarshal([]byte(stdout), &res), stdout)
	assert.Equal(t, tutorial.Spec().String(), res.Model)
	assert.Equal(t, "digits train (classes 0,1)", res.Data)
	h, m, err := tutorial.Run(context.Background(), cpuref.New(), 25, nil)
	require.NoError(t, err)
	m.Free()
	require.Len(t, res.History, 25)
	for i, e := range h.Epochs {
		assert.Equal(t, e.Loss, res.History[i].Loss, "step %d", i+1)
		assert.Equal(t, 288, res.History[i].Samples)
	}
	code, stdout, stderr = gputrain(t, "--preset", "tutorial", "--device", "cpu", "--epochs", "25", "--log-every", "10")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "train: loss ")
	for _, it := range []int{0, 10, 20, 24} {
		assert.Contains(t, stderr, fmt.Sprintf("(iteration %d): loss ", it))
	}
	assert.NotContains(t, stderr, "(iteration 5)")
	assert.Contains(t, presetFlags("tutorial"), "--batch 0")
	assert.Contains(t, presetFlags("tutorial"), fmt.Sprintf("--epochs %d", tutorial.Steps))
	assert.Contains(t, presetFlags("tutorial"), fmt.Sprintf("--log-every %d", tutorial.LogEvery))
}

func TestTrainOnSoftwareGPU(t *testing.T) {
	gputest.Open(t) // skips without an adapter (fails under GPUTRAIN_REQUIRE_GPU=1)
	code, stdout, stderr := gputrain(t, append([]string{"--device", gputest.Device(), "--json"}, small...)...)
	if gputest.Device() == "any" {
		code, stdout, stderr = gputrain(t, append([]string{"--device", "software", "--json"}, small...)...)
	}
	require.Equal(t, 0, code, stderr)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	assert.Equal(t, "gpu", res["device"])
	assert.Greater(t, res["test_accuracy"].(float64), 0.5)
}

// TestTrainAutotuneRemembers: --autotune measures the matmul tiles on the
// first run and keeps the choices in GPUTRAIN_TUNE_CACHE; the next run
// loads them instead of measuring again.
func TestTrainAutotuneRemembers(t *testing.T) {
	gputest.Open(t)
	cache := filepath.Join(t.TempDir(), "autotune.json")
	t.Setenv("GPUTRAIN_TUNE_CACHE", cache)
	args := append([]string{"--device", "software", "--autotune"}, small...)
	code, _, stderr := gputrain(t, args...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "autotune: matmul ", "first run measures")
	require.FileExists(t, cache)

	code, _, stderr = gputrain(t, args...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "choices for this adapter loaded")
	assert.NotContains(t, stderr, "autotune: matmul ", "second run measures nothing")
}

func TestSaveResumeEvalPredict(t *testing.T) {
	ck := filepath.Join(t.TempDir(), "model.safetensors")
	code, _, stderr := gputrain(t, append([]string{"--device", "cpu", "--save", ck}, small...)...)
	require.Equal(t, 0, code, stderr)
	require.FileExists(t, ck)

	code, stdout, stderr := gputrain(t, "--device", "cpu", "--resume", ck, "--save", ck, "--epochs", "1", "--json")
	require.Equal(t, 0, code, stderr)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	hist := res["history"].([]any)
	assert.EqualValues(t, 2, hist[0].(map[string]any)["epoch"], "resumed training continues the epoch count")

	code, stdout, stderr = gputrain(t, "eval", "--device", "cpu", "--model", ck, "--json")
	require.Equal(t, 0, code, stderr)
	var ev map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &ev))
	assert.InDelta(t, res["test_accuracy"], ev["test_accuracy"], 1e-12, "eval reproduces the test accuracy of training")

	code, stdout, stderr = gputrain(t, "predict", "--device", "cpu", "--model", ck, "--n", "5")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, 5, strings.Count(stdout, "predicted"))

	// A model trained on ten classes refuses a two-class set.
	code, _, stderr = gputrain(t, "eval", "--device", "cpu", "--model", ck, "--digits", "0,1")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "predicts 10 classes")
}

func TestInterruptSavesCheckpoint(t *testing.T) {
	ck := filepath.Join(t.TempDir(), "model.safetensors")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as if Ctrl-C came before the first step finished
	code, _, stderr := gputrainCtx(t, ctx, append([]string{"--device", "cpu", "--save", ck}, small...)...)
	assert.Equal(t, 130, code, stderr)
	assert.Contains(t, stderr, "interrupted")
	assert.NotContains(t, stderr, "goroutine")
	assert.FileExists(t, ck, "the interrupted run's state is saved")
}

// TestDivergenceStopsAndKeepsCheckpoint trains on the GPU (float32) with a
// learning rate that overflows the weights: the NaN loss must stop training
// with a message that suggests a smaller rate, and the checkpoint of the last
// good epoch must survive byte for byte. (In float64 the same run stays
// finite, if absurd, so the CPU backend cannot show it.)
func TestDivergenceStopsAndKeepsCheckpoint(t *testing.T) {
	gputest.Open(t)
	ck := filepath.Join(t.TempDir(), "model.safetensors")
	code, _, stderr := gputrain(t, append([]string{"--device", "cpu", "--save", ck}, small...)...)
	require.Equal(t, 0, code, stderr)
	before, err := os.ReadFile(ck)
	require.NoError(t, err)

	code, _, stderr = gputrain(t, "--device", "software", "--resume", ck, "--save", ck, "--optimizer", "sgd", "--lr", "1e38", "--epochs", "2")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "diverged")
	assert.Contains(t, stderr, "smaller")
	after, err := os.ReadFile(ck)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(before, after), "the last good checkpoint is kept")
}

func TestSolve(t *testing.T) {
	code, stdout, stderr := gputrain(t, "solve", "--device", "cpu", "--json")
	require.Equal(t, 0, code, stderr)
	var res struct {
		X, AX  []float64
		Losses [][2]float64
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	require.Len(t, res.Losses, 11)
	assert.Equal(t, [2]float64{0, 5.666666666666667}, res.Losses[0], "iteration 0, as the tutorial prints it")
	assert.Equal(t, 1000.0, res.Losses[1][0])
	for i, want := range []float64{1, 4, 0} {
		assert.InDelta(t, want, res.AX[i], 2e-3)
	}
	code, stdout, _ = gputrain(t, "solve", "--device", "cpu")
	require.Equal(t, 0, code)
	assert.Contains(t, stdout, "iteration      0: loss 5.666666666666667\n")
	assert.Contains(t, stdout, "iteration   1000: loss 0.57972")
	assert.Contains(t, stdout, "A·x = [")
}

func TestSolveFromCSV(t *testing.T) {
	f := filepath.Join(t.TempDir(), "sys.csv")
	require.NoError(t, os.WriteFile(f, []byte("2,0,4\n0,4,8\n"), 0o644))
	code, stdout, stderr := gputrain(t, "solve", "--device", "cpu", "--csv", f, "--lr", "0.05", "--iters", "2000", "--json")
	require.Equal(t, 0, code, stderr)
	var res struct{ X []float64 }
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	assert.InDelta(t, 2, res.X[0], 1e-3)
	assert.InDelta(t, 2, res.X[1], 1e-3)
}

func TestRegress(t *testing.T) {
	f := filepath.Join(t.TempDir(), "line.csv")
	var sb strings.Builder
	sb.WriteString("a,b,y\n")
	for i := 0; i < 50; i++ {
		x1, x2 := float64(i), float64((i*7)%11)
		sb.WriteString(strings.Join([]string{ftoa(x1), ftoa(x2), ftoa(3*x1 - 2*x2 + 5)}, ","))
		sb.WriteString("\n")
	}
	sb.WriteString("NA,1,2\n")
	require.NoError(t, os.WriteFile(f, []byte(sb.String()), 0o644))

	code, _, stderr := gputrain(t, "regress", "--device", "cpu", "--csv", f, "--x", "a,b", "--y", "y")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "line 52")

	code, stdout, stderr := gputrain(t, "regress", "--device", "cpu", "--csv", f, "--x", "a,b", "--y", "y", "--na", "drop", "--json")
	require.Equal(t, 0, code, stderr)
	var res struct {
		Coefficients []float64 `json:"coefficients"`
		ClosedForm   []float64 `json:"closed_form"`
		Intercept    float64   `json:"intercept"`
		Rows         int       `json:"rows"`
		Dropped      int       `json:"dropped"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	assert.Equal(t, 50, res.Rows)
	assert.Equal(t, 1, res.Dropped)
	assert.InDelta(t, 3, res.Coefficients[0], 1e-3)
	assert.InDelta(t, -2, res.Coefficients[1], 1e-3)
	assert.InDelta(t, 5, res.Intercept, 1e-2)
	assert.InDeltaSlice(t, []float64{3, -2, 5}, res.ClosedForm, 1e-9)
}

func TestRegressHousing(t *testing.T) {
	p := shareddata.Path(t, "housing/train.csv")
	code, stdout, stderr := gputrain(t, "regress", "--device", "cpu", "--csv", p, "--x", "LotArea", "--y", "SalePrice", "--json")
	require.Equal(t, 0, code, stderr)
	var res struct {
		Coefficients []float64 `json:"coefficients"`
		ClosedForm   []float64 `json:"closed_form"`
		Intercept    float64   `json:"intercept"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	// Gradient descent on standardised data lands on the least-squares line.
	assert.InDelta(t, res.ClosedForm[0], res.Coefficients[0], 1e-3*abs(res.ClosedForm[0]))
	assert.InDelta(t, res.ClosedForm[1], res.Intercept, 1e-3*abs(res.ClosedForm[1]))
}

func TestDevices(t *testing.T) {
	code, stdout, stderr := gputrain(t, "devices", "--json")
	require.Equal(t, 0, code, stderr)
	var res struct {
		Adapters []map[string]any `json:"adapters"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	if gputest.Required() {
		assert.NotEmpty(t, res.Adapters)
	}
	for _, a := range res.Adapters {
		assert.Contains(t, a, "timestamps", "each adapter says whether it can time kernels")
	}
	code, stdout, _ = gputrain(t, "devices")
	require.Equal(t, 0, code)
	assert.NotEmpty(t, stdout)
	if len(res.Adapters) > 0 {
		assert.Contains(t, stdout, "KERNEL TIMING")
	}
}

// TestFashionMNISTShortRun is CI's real-data run: Debian's
// dataset-fashion-mnist package (installed by .ci/run), one epoch on the CPU.
func TestFashionMNISTShortRun(t *testing.T) {
	if _, err := os.Stat("/usr/share/datasets/fashion-mnist"); err != nil {
		t.Skip("dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
	}
	code, stdout, stderr := gputrain(t, "--device", "cpu", "--data", "fashion-mnist", "--activation", "relu", "--epochs", "1", "--hidden", "64", "--json")
	require.Equal(t, 0, code, stderr)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	assert.Equal(t, false, res["synthetic"])
	assert.Greater(t, res["test_accuracy"].(float64), 0.75)
}

func TestHelp(t *testing.T) {
	code, stdout, _ := gputrain(t, "help")
	assert.Equal(t, 0, code)
	for _, c := range []string{"train", "solve", "regress", "devices", "eval", "predict", "download"} {
		assert.Contains(t, stdout, c)
	}
	code, _, stderr := gputrain(t, "help", "train")
	assert.Equal(t, 0, code)
	assert.Contains(t, stderr, "-device")
}

// TestTrainHelpCoversTables: train's help, however asked for, tells how to
// train on a table, lists every table flag and states the table defaults.
func TestTrainHelpCoversTables(t *testing.T) {
	for _, args := range [][]string{{"help", "train"}, {"train", "--help"}, {"--help", "train"}, {"train", "-h"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := gputrain(t, args...)
			assert.Equal(t, 0, code)
			help := stdout + stderr
			assert.Contains(t, help, "gputrain train --csv FILE --target COLUMN [flags]")
			for _, name := range append([]string{"csv"}, tableOnly...) {
				assert.Contains(t, help, "\n  -"+name+" ", "the flag --%s", name)
			}
			for name, v := range tableDefaults {
				assert.Contains(t, help, "--"+name+" "+v, "the table default of --%s", name)
			}
			for _, epochs := range tableEpochs {
				assert.Contains(t, help, fmt.Sprintf(" %d to", epochs), "the table default of --epochs")
			}
		})
	}
}

func ftoa(f float64) string {
	return strings.TrimRight(strings.TrimRight(strconv.FormatFloat(f, 'f', 6, 64), "0"), ".")
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestPlotWritesPNG(t *testing.T) {
	for _, args := range [][]string{{}, {"--val", "0.1"}} {
		png := filepath.Join(t.TempDir(), "curve.png")
		code, stdout, stderr := gputrain(t, append([]string{"--device", "cpu", "--epochs", "3", "--hidden", "16", "--plot", png}, args...)...)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "plot written")
		f, err := os.Open(png)
		require.NoError(t, err)
		img, err := stdpng.Decode(f)
		f.Close()
		require.NoError(t, err, "a PNG file")
		assert.Greater(t, img.Bounds().Dx(), img.Bounds().Dy(), "loss and accuracy side by side")
	}
}

// TestTrainWeightDecay: --weight-decay reaches the banner and the JSON,
// as L2 for adam and decoupled for adamw, whose default is 0.01.
func TestTrainWeightDecay(t *testing.T) {
	for _, tt := range []struct {
		name   string
		args   []string
		banner string
		wd     float64
	}{
		{"adam l2", []string{"--weight-decay", "0.001"}, "adam lr 0.01, L2 weight decay 0.001 (biases not decayed)", 0.001},
		{"adamw default", []string{"--optimizer", "adamw"}, "adamw lr 0.01, decoupled weight decay 0.01 (biases not decayed)", 0.01},
		{"adamw given", []string{"--optimizer", "adamw", "--weight-decay", "0.1"}, "adamw lr 0.01, decoupled weight decay 0.1", 0.1},
		{"none", nil, "adam lr 0.01, batch 32", 0},
		{"clipped", []string{"--weight-decay", "0.001", "--clip-norm", "2"}, "adam lr 0.01, L2 weight decay 0.001 (biases not decayed), gradients clipped to norm 2, batch 32", 0.001},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"train", "--device", "cpu", "--epochs", "1", "--json"}, tt.args...)
			code, stdout, stderr := gputrain(t, args...)
			require.Equal(t, 0, code, stderr)
			assert.Contains(t, stderr, tt.banner)
			var res struct {
				WeightDecay float64 `json:"weight_decay"`
				Optimizer   string  `json:"optimizer"`
			}
			require.NoError(t, json.Unmarshal([]byte(stdout), &res))
			assert.Equal(t, tt.wd, res.WeightDecay)
		})
	}
}

// TestTrainScheduleJSON: the banner names the schedule and --json's
// history has each epoch's learning rate.
func TestTrainScheduleJSON(t *testing.T) {
	for _, tt := range []struct {
		name   string
		args   []string
		banner string
		lrs    []float64
	}{
		{"constant", nil, "adam lr 0.01, batch 32", []float64{0.01, 0.01, 0.01, 0.01}},
		{"step", []string{"--schedule", "step", "--step-every", "2", "--step-gamma", "0.5"}, "adam lr 0.01 times 0.5 every 2 epochs, batch", []float64{0.01, 0.01, 0.005, 0.005}},
		{"warm-up", []string{"--warmup", "1"}, "adam lr 0.01 after 1 warm-up epochs, batch", []float64{0.005, 0.01, 0.01, 0.01}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"train", "--device", "cpu", "--epochs", "4", "--json"}, tt.args...)
			code, stdout, stderr := gputrain(t, args...)
			require.Equal(t, 0, code, stderr)
			assert.Contains(t, stderr, tt.banner)
			var res struct {
				History []struct {
					LR float64 `json:"lr"`
				} `json:"history"`
			}
			require.NoError(t, json.Unmarshal([]byte(stdout), &res))
			var lrs []float64
			for _, h := range res.History {
				lrs = append(lrs, h.LR)
			}
			assert.InDeltaSlice(t, tt.lrs, lrs, 1e-12)
		})
	}
}

// TestLargeImageDefaults: 28x28 image sets (mnist, fashion-mnist, an IDX
// directory) get fit.DefaultsFor(fit.LargeImages) for the flags not given;
// the built-in digits, synthetic images and tables keep theirs.
func TestLargeImageDefaults(t *testing.T) {
	d := fit.DefaultsFor(fit.LargeImages)
	small := fit.DefaultsFor(fit.Images)
	for _, tt := range []struct {
		name   string
		args   []string
		large  bool
		lr     float64
		sched  nn.ScheduleKind
		hidden []int
	}{
		{"mnist", []string{"--data", "mnist"}, true, d.LR, nn.CosineLR, d.Hidden},
		{"idx directory", []string{"--data", t.TempDir()}, true, d.LR, nn.CosineLR, d.Hidden},
		{"flags given win", []string{"--data", "fashion-mnist", "--lr", "0.01", "--schedule", "constant", "--hidden", "64"}, true, 0.01, nn.ConstantLR, []int{64}},
		{"digits", nil, false, small.LR, nn.ConstantLR, small.Hidden},
		{"synthetic", []string{"--data", "synthetic"}, false, small.LR, nn.ConstantLR, small.Hidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb strings.Builder
			p, err := parseTrain(&env{stdout: &out, stderr: &errb}, tt.args)
			require.NoError(t, err)
			assert.Equal(t, tt.large, p.largeImages)
			assert.Equal(t, tt.lr, p.f.lr)
			assert.Equal(t, tt.sched, p.sched.Kind)
			assert.Equal(t, tt.hidden, p.hidden)
		})
	}
}

// TestEvalConfusion: eval prints the confusion matrix with each class's
// recall and the balanced accuracy, and --json has them, as train's --json
// does for its test rows.
func TestEvalConfusion(t *testing.T) {
	ck := filepath.Join(t.TempDir(), "m.safetensors")
	code, stdout, stderr := gputrain(t, "train", "--device", "cpu", "--epochs", "2", "--save", ck, "--json")
	require.Equal(t, 0, code, stderr)
	trained := checkConfusion(t, stdout, 10, 359)
	code, stdout, stderr = gputrain(t, "eval", "--device", "cpu", "--model", ck)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "balanced accuracy")
	assert.Contains(t, stdout, `true\predicted`)
	assert.Contains(t, stdout, "recall")
	code, stdout, stderr = gputrain(t, "eval", "--device", "cpu", "--model", ck, "--json")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, trained, checkConfusion(t, stdout, 10, 359), "eval counts what train counted")
}

// checkConfusion decodes a result's classification figures and checks that
// they agree: the matrix (classes × classes) counts every one of rows test
// rows once, its diagonal the accuracy's, each recall is its row's share on
// the diagonal and the balanced accuracy is the mean recall. It returns the
// matrix.
func checkConfusion(t *testing.T, stdout string, classes, rows int) [][]int {
	t.Helper()
	var res struct {
		TestAccuracy     float64   `json:"test_accuracy"`
		BalancedAccuracy float64   `json:"balanced_accuracy"`
		Recall           []float64 `json:"recall"`
		Confusion        [][]int   `json:"confusion"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &res), stdout)
	require.Len(t, res.Confusion, classes)
	require.Len(t, res.Recall, classes)
	total, right, mean := 0, 0, 0.0
	for i, row := range res.Confusion {
		require.Len(t, row, classes)
		n := 0
		for _, v := range row {
			n += v
		}
		total += n
		right += row[i]
		assert.InDelta(t, float64(row[i])/float64(n), res.Recall[i], 1e-12, "class %d's recall", i)
		mean += res.Recall[i] / float64(classes)
	}
	assert.Equal(t, rows, total)
	assert.InDelta(t, float64(right)/float64(rows), res.TestAccuracy, 1e-6)
	assert.InDelta(t, mean, res.BalancedAccuracy, 1e-12)
	return res.Confusion
}

// TestTrainClassWeights: --class-weight reaches the banner and the JSON,
// balanced from the training rows' classes or given by class.
func TestTrainClassWeights(t *testing.T) {
	for _, tt := range []struct {
		name   string
		args   []string
		banner string
		want   []float64
	}{
		{"given", []string{"--digits", "0,1", "--class-weight", "1:5"}, "class weights [1 5] (given by --class-weight", []float64{1, 5}},
		{"balanced", []string{"--digits", "0,1", "--class-weight", "balanced"}, "(balanced: rows/(classes·rows of the class))", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"train", "--device", "cpu", "--epochs", "1", "--json"}, tt.args...)
			code, stdout, stderr := gputrain(t, args...)
			require.Equal(t, 0, code, stderr)
			assert.Contains(t, stderr, tt.banner)
			var res struct {
				ClassWeights []float64 `json:"class_weights"`
			}
			require.NoError(t, json.Unmarshal([]byte(stdout), &res))
			require.Len(t, res.ClassWeights, 2)
			if tt.want != nil {
				assert.Equal(t, tt.want, res.ClassWeights)
			} else {
				// Balanced weights n/(2·n_c) average to 1 over the rows.
				assert.InDelta(t, 2, 1/res.ClassWeights[0]+1/res.ClassWeights[1], 1e-9)
			}
		})
	}
}

// TestTrainDropout: --dropout is in the banner and the --json result, and a
// --resume without --dropout keeps the checkpoint's (a given one wins).
func TestTrainDropout(t *testing.T) {
	ck := filepath.Join(t.TempDir(), "m.safetensors")
	code, stdout, stderr := gputrain(t, "train", "--device", "cpu", "--epochs", "1", "--hidden", "16", "--dropout", "0.2", "--json", "--save", ck)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "adam lr 0.01, dropout 0.2 on the hidden layers, batch 32")
	var res struct {
		Dropout float64 `json:"dropout"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	assert.Equal(t, 0.2, res.Dropout)
	for _, tt := range []struct {
		name string
		args []string
		want float64
	}{{"kept", nil, 0.2}, {"given", []string{"--dropout", "0.5"}, 0.5}, {"turned off", []string{"--dropout", "0"}, 0}} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"train", "--device", "cpu", "--epochs", "1", "--json", "--resume", ck}, tt.args...)
			code, stdout, stderr := gputrain(t, args...)
			require.Equal(t, 0, code, stderr)
			var res struct {
				Dropout float64 `json:"dropout"`
			}
			require.NoError(t, json.Unmarshal([]byte(stdout), &res))
			assert.Equal(t, tt.want, res.Dropout)
		})
	}
}
