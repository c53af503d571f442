package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/safetensors"
)

// The tests of issue 19's first two classes: sizes read from input are
// checked before they are allocated, and a model is finite or refused.

// TestHelperProcess is gputrain's main in a child process of the test
// binary (see subprocess); it does nothing in a normal test run.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("GPUTRAIN_HELPER_PROCESS") != "1" {
		t.Skip("only as a child process")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, args, os.Stdout, os.Stderr))
}

// subprocess runs gputrain with args in a child process whose address
// space is limited to limitMiB (ulimit -v), and returns its exit status
// and output.
func subprocess(t *testing.T, limitMiB int, args ...string) (int, string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("ulimit -v is tested on Linux")
	}
	script := fmt.Sprintf(`ulimit -v %d && exec "$@"`, limitMiB*1024)
	cmd := exec.Command("sh", append([]string{"-c", script, "sh", os.Args[0], "-test.run=^TestHelperProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "GPUTRAIN_HELPER_PROCESS=1", "GOMEMLIMIT=off")
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return code, string(out)
}

// withMemoryLimit makes the memory budget at most n bytes (through the Go
// memory limit, which the budget honours) for the test, so that the
// refusals do not depend on the machine's memory.
func withMemoryLimit(t *testing.T, n int64) {
	old := debug.SetMemoryLimit(n)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
}

// hugeClaim writes a small checkpoint (a 2-8-1 model's tensors) whose
// metadata claims two hidden layers of 46000.
func hugeClaim(t *testing.T, dir string) string {
	t.Helper()
	f := savedTiny(t, dir)
	f.Metadata[nn.MetaSpec] = strings.Replace(f.Metadata[nn.MetaSpec], `"hidden":[8]`, `"hidden":[46000,46000]`, 1)
	require.Contains(t, f.Metadata[nn.MetaSpec], "46000")
	p := filepath.Join(dir, "huge.safetensors")
	require.NoError(t, safetensors.Write(p, f.Tensors, f.Metadata))
	return p
}

// savedTiny trains and saves a digits model with one hidden layer of 8 and
// returns its file's content.
func savedTiny(t *testing.T, dir string) *safetensors.File {
	t.Helper()
	p := filepath.Join(dir, "tiny.safetensors")
	if _, err := os.Stat(p); err != nil {
		code, _, stderr := gputrain(t, "--device", "cpu", "--epochs", "1", "--hidden", "8", "--save", p)
		require.Equal(t, 0, code, stderr)
	}
	f, err := safetensors.Read(p)
	require.NoError(t, err)
	return f
}

// idTable writes a CSV table of n rows with an ID column (n distinct
// values), a number and a binary target.
func idTable(t *testing.T, dir string, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,x,y\n")
	for i := range n {
		fmt.Fprintf(&b, "id%d,%d,%d\n", i, i%7, i%2)
	}
	p := filepath.Join(dir, "ids.csv")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	return p
}

// TestSizesCheckedBeforeAllocation: every input that sizes memory is
// refused with the figure and the limit, exit status 2 for a flag and 1 for
// a file, and no Go runtime dump.
func TestSizesCheckedBeforeAllocation(t *testing.T) {
	dir := t.TempDir()
	huge := hugeClaim(t, dir)
	ids := idTable(t, dir, 3000)
	withMemoryLimit(t, 1<<30)
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"wide hidden layers", []string{"--device", "cpu", "--hidden", "30000,30000"}, 2,
			[]string{"--hidden 30000,30000: training layers this wide needs at least 43.3 GB of memory, more than the", "GOMEMLIMIT", "choose narrower layers"}},
		{"wide hidden layers on any device", []string{"--device", "auto", "--hidden", "30000,30000"}, 2,
			[]string{"--hidden 30000,30000: holding layers this wide needs at least 14.4 GB of memory, more than the"}},
		{"checkpoint claiming huge layers", []string{"eval", "--device", "cpu", "--model", huge}, 1,
			[]string{huge, "layers.0.weight has shape [8 64], model 64-46000-46000-10 sigmoid softmax wants [46000 64]",
				"claims 2119496010 parameters, the file holds 610 values"}},
		{"predict on a checkpoint claiming huge layers", []string{"predict", "--device", "cpu", "--model", huge}, 1,
			[]string{huge, "wants [46000 64]"}},
		{"resume from a checkpoint claiming huge layers", []string{"--device", "cpu", "--resume", huge}, 1,
			[]string{huge, "wants [46000 64]"}},
		{"one-hot ID column with a huge category cap", []string{"--device", "cpu", "--csv", ids, "--target", "y", "--max-categories", "1000000", "--epochs", "1"}, 1,
			[]string{"ids.csv: encoding 2400 rows into 2401 inputs each needs about 46.1 MB", `the widest column, "id", has 2400 categories`}},
		{"a CSV without line ends", []string{"--device", "cpu", "--csv", "/dev/zero", "--target", "y"}, 1,
			[]string{"data: /dev/zero: line 1: a row longer than 16777216 bytes (16 MiB) without a line end"}},
		{"solve from a CSV without line ends", []string{"solve", "--device", "cpu", "--csv", "/dev/zero"}, 1,
			[]string{"data: /dev/zero: line 1: a row longer than"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "one-hot ID column with a huge category cap" {
				withMemoryLimit(t, heldNow()+20<<20) // about 20 MB to spare
			}
			code, stdout, stderr := gputrain(t, tt.args...)
			assert.Equal(t, tt.code, code, stderr)
			assert.Empty(t, stdout)
			for _, w := range tt.want {
				assert.Contains(t, stderr, w)
			}
			assert.NotContains(t, stderr, "goroutine")
		})
	}
}

// TestSizesCheckedUnderUlimit runs the refusals in child processes whose
// address space is limited, as a user's ulimit -v or a container would: no
// "fatal error: runtime: out of memory", the budget names the limit.
func TestSizesCheckedUnderUlimit(t *testing.T) {
	if testing.Short() {
		t.Skip("child processes")
	}
	dir := t.TempDir()
	huge := hugeClaim(t, dir)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"wide hidden layers", []string{"--device", "cpu", "--hidden", "30000,30000"}, 2, "ulimit -v"},
		{"checkpoint claiming huge layers", []string{"eval", "--device", "cpu", "--model", huge}, 1, "wants [46000 64]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := subprocess(t, 3072, tt.args...)
			assert.Equal(t, tt.code, code, out)
			assert.Contains(t, out, tt.want)
			assert.NotContains(t, out, "fatal error")
			assert.NotContains(t, out, "goroutine")
		})
	}
}

// TestNonFiniteCheckpointRefused: eval and predict refuse a checkpoint
// holding a NaN or infinite weight with exit status 1, naming the tensor.
func TestNonFiniteCheckpointRefused(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []float64{math.NaN(), math.Inf(1)} {
		f := savedTiny(t, dir)
		f.Tensor("layers.1.weight").Data[5] = v
		p := filepath.Join(dir, fmt.Sprintf("bad-%v.safetensors", v))
		require.NoError(t, safetensors.Write(p, f.Tensors, f.Metadata))
		for _, cmd := range []string{"eval", "predict"} {
			code, stdout, stderr := gputrain(t, cmd, "--device", "cpu", "--model", p)
			assert.Equal(t, 1, code, stderr)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, fmt.Sprintf("checkpoint tensor layers.1.weight holds %v at [0,5]", v))
			assert.Contains(t, stderr, p)
		}
	}
}

// heldNow is the memory the Go runtime holds now, as the budget counts it
// against GOMEMLIMIT.
func heldNow() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys - ms.HeapReleased)
}
