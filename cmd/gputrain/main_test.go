package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gputrain/gputrain/gpu/gputest"
	"github.com/gputrain/gputrain/internal/shareddata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		{"unknown device", []string{"--device", "tpu"}, `unknown --device "tpu"`},
		{"unknown activation", []string{"--activation", "swish"}, `--activation "swish"`},
		{"unknown optimizer", []string{"--optimizer", "lbfgs"}, "--optimizer"},
		{"one digit", []string{"--digits", "3"}, "at least two classes"},
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
	assert.Contains(t, stderr, "synthetic")
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &res), stdout)
	for _, k := range []string{"device", "backend", "adapter", "epochs", "test_loss", "test_accuracy", "samples_per_second"} {
		assert.Contains(t, res, k)
	}
	assert.Equal(t, "cpu", res["device"])
	assert.Equal(t, true, res["synthetic"])
	assert.Greater(t, res["test_accuracy"].(float64), 0.5, "far above chance (0.1) after one epoch")
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
	assert.EqualValues(t, 2, hist[0].(map[string]any)["Epoch"], "resumed training continues the epoch count")

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

func ftoa(f float64) string { return strings.TrimRight(strings.TrimRight(fmtFloat(f), "0"), ".") }

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestPlotWritesPNG(t *testing.T) {
	png := filepath.Join(t.TempDir(), "curve.png")
	code, stdout, stderr := gputrain(t, "--device", "cpu", "--epochs", "2", "--hidden", "16", "--plot", png)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "plot written")
	b, err := os.ReadFile(png)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")), "a PNG file")
}
