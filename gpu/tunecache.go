package gpu

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/gputrain/gputrain/internal/usercache"
	"github.com/gputrain/gputrain/shaders"
)

// The autotune cache
//
// With Options.Autotune and Options.TuneCache, the autotuner's choices
// outlive the process, as Burn's autotune cache does: a JSON file holds one
// entry per (adapter, driver, matmul shader, shape bucket), Open loads the
// entries that match this device and this build's matmul shader, and each
// new choice is merged into the file (re-read, updated, written atomically,
// so concurrent runs lose at most each other's newest entry). An entry for
// another adapter, another driver version or an edited matmul shader is
// kept in the file but never used: it was measured on something else.
//
// The cache is an optimisation: a file that cannot be read, parsed or
// written never fails the backend; the problem is recorded in TuneLog and
// the autotuner measures as if there were no cache.

// DefaultTuneCache is the autotune cache the command line uses: the file
// that GPUTRAIN_TUNE_CACHE names ("off" for none), else autotune.json in
// gputrain's folder of the user's cache directory (os.UserCacheDir), or ""
// (no cache) where there is no such directory.
func DefaultTuneCache() string { return usercache.File("GPUTRAIN_TUNE_CACHE", "autotune.json") }

// tuneCacheVersion changes when the file's meaning changes.
const tuneCacheVersion = 1

type tuneCacheFile struct {
	Version int              `json:"version"`
	Entries []tuneCacheEntry `json:"entries"`
}

type tuneCacheEntry struct {
	Adapter string       `json:"adapter"`
	API     string       `json:"api"`
	Driver  string       `json:"driver"`
	Shader  string       `json:"shader"` // matmulShaderID
	M       int          `json:"m"`
	K       int          `json:"k"`
	N       int          `json:"n"`
	TransA  bool         `json:"trans_a"`
	TransB  bool         `json:"trans_b"`
	Config  MatmulConfig `json:"config"`
	GFLOPS  float64      `json:"gflops"`
}

func (e tuneCacheEntry) key() tuneKey {
	return tuneKey{m: e.M, k: e.K, n: e.N, transA: e.TransA, transB: e.TransB}
}

// matmulShaderID fingerprints the matmul shader under each of its kernels
// (the tiles with either load width, the direct and the split-k kernel, and
// the snippets they include) so that cached choices die with the code they
// were measured on.
func matmulShaderID() string {
	h := sha256.New()
	scalar := DefaultMatmul
	scalar.Vec4 = false
	// One configuration of each kernel: the tiles with either load width,
	// the direct kernel and the split-k one.
	for _, c := range []MatmulConfig{scalar, DefaultMatmul, directConfig(32, 64), SplitCandidates[0]} {
		src, err := shaders.Source("matmul", c.consts(false, false))
		if err != nil {
			return "unknown"
		}
		h.Write([]byte(src))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func (b *Backend) sameDevice(e tuneCacheEntry) bool {
	return e.Adapter == b.adapter.Name && e.API == b.adapter.API && e.Driver == b.adapter.Driver && e.Shader == b.shaderID
}

func readTuneCache(path string) (tuneCacheFile, error) {
	var f tuneCacheFile
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return tuneCacheFile{Version: tuneCacheVersion}, nil
	}
	if err != nil {
		return f, fmt.Errorf("autotune cache: %w", err)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("autotune cache %s: %w", path, err)
	}
	if f.Version != tuneCacheVersion {
		return f, fmt.Errorf("autotune cache %s: version %d, this build reads %d", path, f.Version, tuneCacheVersion)
	}
	return f, nil
}

// loadTuneCache fills b.tuned from the cache file's entries for this
// device. Entries whose configuration does not fit the adapter are skipped.
func (b *Backend) loadTuneCache() {
	f, err := readTuneCache(b.tuneCache)
	if err != nil {
		b.tuneLog = append(b.tuneLog, fmt.Sprintf("%v; measuring afresh, the file will be rewritten", err))
		return
	}
	n := 0
	for _, e := range f.Entries {
		if !b.sameDevice(e) || e.Config.valid(b.adapter.Limits) != nil {
			continue
		}
		b.tuned[e.key()] = e.Config
		n++
	}
	if n > 0 {
		b.tuneLog = append(b.tuneLog, fmt.Sprintf("autotune cache %s: %d choices for this adapter loaded", b.tuneCache, n))
	}
}

// saveTuneChoice merges one new choice into the cache file.
func (b *Backend) saveTuneChoice(key tuneKey, c MatmulConfig, gflops float64) {
	f, err := readTuneCache(b.tuneCache)
	if err != nil {
		f = tuneCacheFile{Version: tuneCacheVersion} // unreadable: replaced
	}
	e := tuneCacheEntry{
		Adapter: b.adapter.Name, API: b.adapter.API, Driver: b.adapter.Driver, Shader: b.shaderID,
		M: key.m, K: key.k, N: key.n, TransA: key.transA, TransB: key.transB,
		Config: c, GFLOPS: gflops,
	}
	replaced := false
	for i, old := range f.Entries {
		if b.sameDevice(old) && old.key() == key {
			f.Entries[i], replaced = e, true
		}
	}
	if !replaced {
		f.Entries = append(f.Entries, e)
	}
	if err := usercache.WriteJSON(b.tuneCache, f); err != nil {
		b.tuneLog = append(b.tuneLog, fmt.Sprintf("autotune cache %s not saved: %v", b.tuneCache, err))
	}
}
