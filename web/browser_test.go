//go:build unix

package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests here run the page in headless Chromium, whose WebGPU is Dawn
// (with its own WGSL compiler, Tint) on SwiftShader, a software Vulkan
// that ships with Chromium: no GPU, Mesa or display is needed. The page
// POSTs its results back to the test's server (see page/index.html's
// report parameter), and the test then kills Chromium's process group.

// chromiumPath finds the browser. Without one the tests skip, unless CI=true
// (CI installs Debian's chromium), where they fail.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium on PATH (CI=true): apt-get install chromium")
	}
	t.Skip("no Chromium on PATH (chromium, chromium-browser, google-chrome): the browser tests need it (apt-get install chromium)")
	return ""
}

var (
	buildOnce sync.Once
	built     Assets
	buildErr  error
)

// testAssets builds the page's WebAssembly once per test binary.
func testAssets(t *testing.T) Assets {
	t.Helper()
	buildOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		built, buildErr = Build(ctx, "")
	})
	require.NoError(t, buildErr)
	t.Logf("wasm: %d bytes, %s", len(built.Wasm), built.Source)
	return built
}

// report is what the page POSTs (see post in page/index.html).
type report struct {
	Kind       string          `json:"kind"`
	Error      string          `json:"error"`
	Result     json.RawMessage `json:"result"`
	Checkpoint string          `json:"checkpoint"`
	Seconds    float64         `json:"seconds"`
}

// chromiumFlags are those of shared/notes/browser-webgpu.md. Dawn's
// zero-initialisation of var<workgroup> memory is turned off: SwiftShader
// compiles it slowly (the matmul pipelines take 1.3–2 s each with it, a
// tenth of that without), and every shader here writes each workgroup
// element before any invocation reads it (the matmul tiles are staged
// whole before the barrier, sum256 and column_sum write every lane first).
// GPUTRAIN_DAWN_WORKGROUP_INIT=1 keeps it on.
func chromiumFlags(profile string) []string {
	f := []string{"--headless", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run",
		"--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader",
		"--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"}
	if os.Getenv("GPUTRAIN_DAWN_WORKGROUP_INIT") != "1" {
		f = append(f, "--enable-dawn-features=disable_workgroup_init")
	}
	return f
}

// syncBuffer is a bytes.Buffer safe for Chromium's output and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	if len(out) > n {
		out = "…" + out[len(out)-n:]
	}
	return out
}

// runPage serves the page with a, opens it in headless Chromium with the
// query (after report=/report) and returns the first report of kind want.
// A report of kind "error", or none in time, fails the test with the end of
// Chromium's log.
func runPage(t *testing.T, a Assets, query, want string, timeout time.Duration) report {
	t.Helper()
	browser := chromiumPath(t)
	reports := make(chan report, 16)
	mux := http.NewServeMux()
	mux.Handle("/", Handler(a))
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		var rep report
		if err := json.NewDecoder(r.Body).Decode(&rep); err != nil {
			rep = report{Kind: "error", Error: "undecodable report: " + err.Error()}
		}
		select {
		case reports <- rep:
		default:
		}
	})
	srv := httptest.NewServer(mux) // on 127.0.0.1: a secure context
	defer srv.Close()

	var log syncBuffer
	cmd := exec.Command(browser, append(chromiumFlags(t.TempDir()), srv.URL+"/?report=/report&"+query)...)
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	defer func() {
		// Chromium's helpers share its process group.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	start := time.Now()
	deadline := time.After(timeout)
	for {
		select {
		case rep := <-reports:
			switch rep.Kind {
			case want:
				t.Logf("%s after %.1f s (the page's own figure: %.1f s)", want, time.Since(start).Seconds(), rep.Seconds)
				return rep
			case "error":
				t.Fatalf("the page reported an error: %s\nChromium's log:\n%s", rep.Error, log.tail(4000))
			case "ready":
				t.Logf("page ready after %.1f s: %s", time.Since(start).Seconds(), rep.Result)
			}
		case <-deadline:
			t.Fatalf("no %q report from the page within %s\nChromium's log:\n%s", want, timeout, log.tail(6000))
		}
	}
}

// checkResult is the part of the page's check result the test reads.
type checkResult struct {
	Adapter   string  `json:"adapter"`
	Type      string  `json:"type"`
	UserAgent string  `json:"user_agent"`
	Size      string  `json:"size"`
	Passed    int     `json:"passed"`
	Failed    int     `json:"failed"`
	Seconds   float64 `json:"seconds"`
	Checks    []struct {
		Op       string   `json:"op"`
		Case     string   `json:"case"`
		MaxRatio *float64 `json:"max_ratio"`
		Compared int      `json:"compared"`
		Pass     bool     `json:"pass"`
		Failures []string `json:"failures"`
		Seconds  float64  `json:"seconds"`
	} `json:"checks"`
}

// writeArtifact saves b under GPUTRAIN_BROWSER_OUT, when set, for the
// record (docs/browser.md quotes such runs).
func writeArtifact(t *testing.T, name string, b []byte) {
	dir := os.Getenv("GPUTRAIN_BROWSER_OUT")
	if dir == "" {
		return
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
}

func summarise(t *testing.T, res checkResult) {
	type tally struct {
		pass, fail int
		secs       float64
	}
	byOp := map[string]*tally{}
	var order []string
	for _, c := range res.Checks {
		n := byOp[c.Op]
		if n == nil {
			n = &tally{}
			byOp[c.Op] = n
			order = append(order, c.Op)
		}
		n.secs += c.Seconds
		if c.Pass {
			n.pass++
		} else {
			n.fail++
			t.Errorf("%s %s failed on Dawn: %s", c.Op, c.Case, strings.Join(c.Failures, "; "))
		}
	}
	for _, op := range order {
		n := byOp[op]
		t.Logf("  %-24s %3d passed %3d failed %6.1f s", op, n.pass, n.fail, n.secs)
	}
}

// TestQuickConformanceInChromium runs the quick conformance suite in the
// page ("Check this GPU") on Chromium's WebGPU and requires every case to
// pass: the shaders, compiled by Tint and run by Dawn on SwiftShader, agree
// with the float64 reference within the same bounds as on wgpu-native.
func TestQuickConformanceInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the browser suite takes a minute")
	}
	a := testAssets(t)
	rep := runPage(t, a, "auto=check&size=quick", "check", 8*time.Minute)
	writeArtifact(t, "check-quick.json", rep.Result)
	var res checkResult
	require.NoError(t, json.Unmarshal(rep.Result, &res))
	t.Logf("%s: %s check, %d passed, %d failed in %.1f s (%s)", res.Adapter, res.Size, res.Passed, res.Failed, res.Seconds, res.UserAgent)
	summarise(t, res)
	assert.Equal(t, "quick", res.Size)
	assert.Zero(t, res.Failed, "cases failed on Dawn")
	assert.Equal(t, len(res.Checks), res.Passed+res.Failed)
	assert.Greater(t, res.Passed, 300, "the quick suite has 346 cases")
	compared := 0
	for _, c := range res.Checks {
		compared += c.Compared
	}
	assert.Greater(t, compared, 0, "the suite compared nothing")
	ops := map[string]bool{}
	for _, c := range res.Checks {
		ops[c.Op] = true
	}
	for _, name := range conformanceChecks() {
		assert.True(t, ops[name], "check %s did not run in the browser", name)
	}
	assert.Contains(t, res.UserAgent, "Chrome/")
}

// TestTrainInChromium presses Train on the page with the built-in digits
// and the page's defaults (those of gputrain train: hidden 128,64 sigmoid,
// Adam, lr 0.01, batch 32, 20 epochs; about half a minute on SwiftShader),
// takes the checkpoint the page offers for download, and loads it with the
// CPU reference as gputrain eval does: its test accuracy there must be the
// one the page reported, at least 0.95.
func TestTrainInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the browser test takes a minute")
	}
	a := testAssets(t)
	const epochs = 20
	rep := runPage(t, a, fmt.Sprintf("auto=train&epochs=%d", epochs), "train", 8*time.Minute)
	var res struct {
		Adapter  string   `json:"adapter"`
		Rows     int      `json:"rows"`
		TestRows int      `json:"test_rows"`
		Test     string   `json:"test"`
		TestAcc  *float64 `json:"test_accuracy"`
		Seconds  float64  `json:"seconds"`
		Bytes    int      `json:"checkpoint_bytes"`
		Epochs   []struct {
			Epoch    int      `json:"epoch"`
			Loss     float64  `json:"loss"`
			Accuracy *float64 `json:"accuracy"`
			Seconds  float64  `json:"seconds"`
		} `json:"epochs"`
	}
	require.NoError(t, json.Unmarshal(rep.Result, &res))
	writeArtifact(t, "train.json", rep.Result)
	t.Logf("%s: %d epochs on %d rows in %.1f s; test: %s", res.Adapter, len(res.Epochs), res.Rows, res.Seconds, res.Test)
	for _, e := range res.Epochs {
		t.Logf("  epoch %d: loss %.4f, accuracy %.4f, %.2f s", e.Epoch, e.Loss, deref(e.Accuracy), e.Seconds)
	}
	require.Len(t, res.Epochs, epochs)
	assert.Less(t, res.Epochs[epochs-1].Loss, res.Epochs[0].Loss, "the loss did not fall")
	require.NotNil(t, res.TestAcc)
	assert.GreaterOrEqual(t, *res.TestAcc, 0.95, "test accuracy after %d epochs", epochs)

	ck, err := base64.StdEncoding.DecodeString(rep.Checkpoint)
	require.NoError(t, err)
	require.Len(t, ck, res.Bytes)
	path := filepath.Join(t.TempDir(), "model.safetensors")
	require.NoError(t, os.WriteFile(path, ck, 0o644))
	writeArtifact(t, "model.safetensors", ck)
	acc, rows := evalCheckpoint(t, path)
	assert.Equal(t, res.TestRows, rows)
	// float32 on the GPU against float64 here: a row whose top two logits
	// are within rounding may flip.
	assert.InDelta(t, *res.TestAcc, acc, 1.5/float64(rows), "the checkpoint's accuracy on the CPU reference")
}

func deref(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}
