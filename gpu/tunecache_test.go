package gpu

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tunedMatMul runs one 40×30·30×20 product (bucket 64x32x32) with autotune
// and the cache at path, checks its result, and returns the backend's
// tunings and log.
func tunedMatMul(t *testing.T, path string) (tunings int, log []string) {
	t.Helper()
	b := openInternalWith(t, Options{Device: "any", Autotune: true, TuneCache: path})
	av, wv := make([]float64, 40*30), make([]float64, 30*20)
	for i := range av {
		av[i] = float64(i%7) - 3
	}
	for i := range wv {
		wv[i] = float64(i%5) - 2
	}
	a, _ := b.New(40, 30, backend.Float)
	w, _ := b.New(30, 20, backend.Float)
	c, _ := b.New(40, 20, backend.Float)
	require.NoError(t, b.WriteFloats(a, av))
	require.NoError(t, b.WriteFloats(w, wv))
	b.MatMul(c, a, w, false, false)
	got, err := b.ReadFloats(c)
	require.NoError(t, err)
	for i := range 40 {
		for j := range 20 {
			var want float64
			for p := range 30 {
				want += av[i*30+p] * wv[p*20+j]
			}
			require.Equal(t, want, got[i*20+j], "c[%d][%d]", i, j) // small integers: exact
		}
	}
	s := b.Stats()
	log = b.TuneLog()
	require.NoError(t, b.Close())
	return s.Tunings, log
}

func readCache(t *testing.T, path string) tuneCacheFile {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var f tuneCacheFile
	require.NoError(t, json.Unmarshal(data, &f), "cache file is JSON")
	return f
}

// TestTuneCachePersists: the first backend measures and saves its choice,
// the second loads it and measures nothing.
func TestTuneCachePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "autotune.json")
	tunings, _ := tunedMatMul(t, path)
	assert.Equal(t, 1, tunings, "first run measures the bucket")
	f := readCache(t, path)
	require.Len(t, f.Entries, 1)
	e := f.Entries[0]
	assert.Equal(t, tuneKey{64, 32, 32, false, false}, e.key())
	assert.Equal(t, matmulShaderID(), e.Shader)
	assert.Positive(t, e.GFLOPS)

	tunings, log := tunedMatMul(t, path)
	assert.Zero(t, tunings, "second run uses the saved choice")
	assert.Contains(t, strings.Join(log, "\n"), "1 choices for this adapter loaded")
	assert.Len(t, readCache(t, path).Entries, 1, "nothing new to save")
}

// TestTuneCacheEntriesThatDoNotApply: entries measured elsewhere, on an
// older shader, or that do not fit the adapter are kept but not used, and a
// broken file is replaced; none of this fails the backend.
func TestTuneCacheEntriesThatDoNotApply(t *testing.T) {
	probe := openInternal(t)
	ad := probe.Adapter()
	here := tuneCacheEntry{Adapter: ad.Name, API: ad.API, Driver: ad.Driver, Shader: matmulShaderID(),
		M: 64, K: 32, N: 32, Config: DefaultMatmul, GFLOPS: 1}
	other := here
	other.Adapter = "another GPU"
	stale := here
	stale.Shader = "0123456789abcdef"
	tooBig := here
	tooBig.Config = MatmulConfig{BM: 1024, BN: 1024, BK: 64, TM: 1, TN: 1}
	file := func(es ...tuneCacheEntry) string {
		data, err := json.Marshal(tuneCacheFile{Version: tuneCacheVersion, Entries: es})
		require.NoError(t, err)
		return string(data)
	}
	tests := []struct {
		name     string
		contents string
		logs     string // in TuneLog
		keep     int    // entries of the old file still there after the run
	}{
		{"other adapter", file(other), "", 1},
		{"older shader", file(stale), "", 1},
		{"does not fit the adapter", file(tooBig), "", 0}, // same device and bucket: replaced
		{"not JSON", "{broken", "measuring afresh", 0},
		{"other version", `{"version": 99, "entries": []}`, "version 99", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "autotune.json")
			require.NoError(t, os.WriteFile(path, []byte(tt.contents), 0o644))
			tunings, log := tunedMatMul(t, path)
			assert.Equal(t, 1, tunings, "the entry does not apply: measured")
			if tt.logs != "" {
				assert.Contains(t, strings.Join(log, "\n"), tt.logs)
				assert.Contains(t, strings.Join(log, "\n"), path, "the log names the file")
			}
			f := readCache(t, path)
			assert.Len(t, f.Entries, tt.keep+1, "the new choice is added")
			assert.Equal(t, ad.Name, f.Entries[len(f.Entries)-1].Adapter)
		})
	}
}

// TestTuneCacheUnwritable: a cache path that cannot be written is
// reported in TuneLog, and the product still runs.
func TestTuneCacheUnwritable(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o644))
	path := filepath.Join(blocker, "autotune.json") // a folder that is a file
	tunings, log := tunedMatMul(t, path)
	assert.Equal(t, 1, tunings)
	assert.Contains(t, strings.Join(log, "\n"), "not saved")
}
