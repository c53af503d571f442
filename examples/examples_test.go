// Package examples_test builds the programs under examples/ and runs them,
// so that they cannot rot.
package examples_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var bins struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bins.dir != "" {
		os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

// build builds every example into a temporary folder, once for all tests,
// and returns the folder.
func build(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the example programs")
	}
	bins.once.Do(func() {
		if bins.err = touchSources(".."); bins.err != nil {
			return
		}
		if bins.dir, bins.err = os.MkdirTemp("", "examples"); bins.err != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", bins.dir+string(filepath.Separator), "./classifier", "./regressor", "./server")
		if out, err := cmd.CombinedOutput(); err != nil {
			bins.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	require.NoError(t, bins.err)
	return bins.dir
}

// touchSources stats every Go file of the module under root, so that go
// test's cache, which tracks the files a test opens, reruns these tests
// when a source the programs are built from changes.
func touchSources(root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root:
			return filepath.SkipDir
		case !d.IsDir() && strings.HasSuffix(path, ".go"):
			_, err = os.Stat(path)
		}
		return err
	})
}

// TestPrograms runs the batch examples and checks what they print.
func TestPrograms(t *testing.T) {
	bin := build(t)
	for _, tt := range []struct {
		name string
		want []*regexp.Regexp
	}{
		{"classifier", []*regexp.Regexp{regexp.MustCompile(`^classes \[1 2\] probabilities \[\[[0-9.e-]+ 0\.9[0-9.e-]* [0-9.e-]+\] \[[0-9.e-]+ [0-9.e-]+ 0\.9`)}},
		{"regressor", []*regexp.Regexp{
			regexp.MustCompile(`(?m)^test: loss [0-9.]+ \(standardised\), RMSE [0-9.e+]+, MAE [0-9.e+]+, R² 0\.9[0-9]+ on 80 rows$`),
			regexp.MustCompile(`(?m)^house 1: predicted price 1[6-9][0-9]{4}$`),         // 2000·80 + 5000·3 = 175000
			regexp.MustCompile(`(?m)^house 2: predicted price (2[89]|3[0-3])[0-9]{4}$`), // 240000 + 20000 + 50000 = 310000
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var stdout, stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, filepath.Join(bin, tt.name))
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())
			for _, re := range tt.want {
				assert.Regexp(t, re, stdout.String())
			}
		})
	}
}

// TestServer starts the HTTP example on a free port, asks it for two
// predictions and a bad request, and stops it.
func TestServer(t *testing.T) {
	bin := build(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "server"), "-addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "stderr: %s", stderr.String())
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	require.True(t, ok, "first line %q", line)

	resp, err := http.Post(url+"/predict", "application/json", strings.NewReader(`{"rows": [[0.1, 2.9], [3.2, 0.2], [0, 0]]}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got struct {
		Classes       []int       `json:"classes"`
		Probabilities [][]float64 `json:"probabilities"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	assert.Equal(t, []int{1, 2, 0}, got.Classes)
	require.Len(t, got.Probabilities, 3)
	for i, p := range got.Probabilities {
		assert.Len(t, p, 3)
		assert.Greater(t, p[got.Classes[i]], 0.5, "row %d", i)
	}

	bad, err := http.Post(url+"/predict", "application/json", strings.NewReader(`{"rows": [[1, 2, 3]]}`))
	require.NoError(t, err)
	defer bad.Body.Close()
	assert.Equal(t, http.StatusUnprocessableEntity, bad.StatusCode)
}
