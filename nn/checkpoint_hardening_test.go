package nn_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/safetensors"
)

// rawFile builds a safetensors file from a raw JSON header and data bytes.
func rawFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

// savedXOR saves a 2-8-1 xorSpec model and returns the file's bytes.
func savedXOR(t *testing.T) []byte {
	t.Helper()
	m := newModel(t, cpuref.New(), xorSpec, 1)
	p := filepath.Join(t.TempDir(), "good.safetensors")
	require.NoError(t, m.Save(p))
	raw, err := os.ReadFile(p)
	require.NoError(t, err)
	return raw
}

// rewrite decodes a good checkpoint, lets edit change it, and re-encodes it.
func rewrite(t *testing.T, good []byte, edit func(f *safetensors.File)) []byte {
	t.Helper()
	f, err := safetensors.Decode("good", good)
	require.NoError(t, err)
	edit(f)
	b, err := safetensors.Encode("edited", f.Tensors, f.Metadata)
	require.NoError(t, err)
	return b
}

// TestLoadRejectsBadFiles: every damaged, hostile or mismatched file is an
// error from nn.Load that names the file and the field or tensor at fault,
// without panicking or allocating what the file claims.
func TestLoadRejectsBadFiles(t *testing.T) {
	good := savedXOR(t)
	hdrLen := binary.LittleEndian.Uint64(good)
	f64 := binary.LittleEndian.AppendUint64(nil, math.Float64bits(1))

	tests := []struct {
		name   string
		data   []byte // nil: no file at all
		want   []string
		format bool // a malformed file: matches safetensors.ErrFormat
		// metaOnly: only the metadata is at fault, which LoadParams (keeping
		// the model's own Spec) rightly ignores.
		metaOnly bool
	}{
		{name: "missing file", want: []string{"no such file"}},
		{name: "empty file", data: []byte{}, format: true,
			want: []string{"0 bytes, too short for the 8-byte header length", "not a safetensors file"}},
		{name: "tiny junk", data: []byte("junk"), format: true,
			want: []string{"too short for the 8-byte header length"}},
		{name: "text file", data: []byte("this is a CSV file, not a checkpoint\n1,2,3\n"), format: true,
			want: []string{"header length", "exceeds the 100000000-byte limit", "not a safetensors file"}},
		{name: "binary junk with a plausible length", data: rawFile("\x00\x01\x02 not json", nil), format: true,
			want: []string{"header: not a JSON object"}},
		{name: "header length larger than the file", data: append(binary.LittleEndian.AppendUint64(nil, 4096), `{}`...), format: true,
			want: []string{"header length 4096 exceeds the 2 bytes after it"}},
		{name: "header length just past the end", data: append(binary.LittleEndian.AppendUint64(nil, hdrLen+uint64(len(good))), good[8:]...), format: true,
			want: []string{"header length", "exceeds the"}},
		{name: "huge tensor shape", format: true,
			data: rawFile(`{"layers.0.weight":{"dtype":"F64","shape":[1073741824,1073741824],"data_offsets":[0,8]}}`, f64),
			want: []string{`tensor "layers.0.weight"`, "shape [1073741824 1073741824] of F64 holds more than the 8-byte data section can hold"}},
		{name: "huge tensor with matching offsets", format: true,
			data: rawFile(`{"layers.0.bias":{"dtype":"F64","shape":[134217728],"data_offsets":[0,1073741824]}}`, f64),
			want: []string{`tensor "layers.0.bias"`, "data_offsets [0, 1073741824] out of range of the 8-byte data section"}},
		{name: "overflowing shape", format: true,
			data: rawFile(`{"layers.0.weight":{"dtype":"F32","shape":[2147483647,2147483647,2147483647,2147483647],"data_offsets":[0,8]}}`, f64),
			want: []string{`tensor "layers.0.weight"`, "holds more than"}},
		{name: "unsupported dtype", format: true,
			data: rawFile(`{"layers.0.weight":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}`, f64),
			want: []string{`tensor "layers.0.weight"`, "dtype F16 not supported"}},
		{name: "truncated in the length", data: good[:5], format: true,
			want: []string{"5 bytes, too short for the 8-byte header length"}},
		{name: "truncated in the header", data: good[:40], format: true,
			want: []string{"header length", "exceeds the 32 bytes after it", "truncated"}},
		{name: "truncated in the data", data: good[:len(good)-3], format: true,
			want: []string{`tensor "layers.1.weight"`, "out of range of the"}},
		{name: "truncated at the data", data: good[:8+hdrLen], format: true,
			want: []string{"out of range of the 0-byte data section"}},
		{name: "not an nn checkpoint",
			data: rawFile(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f64[:4]),
			want: []string{"checkpoint format", nn.CheckpointFormat}},
		{name: "bad spec metadata", metaOnly: true,
			data: rewrite(t, good, func(f *safetensors.File) { f.Metadata[nn.MetaSpec] = `{"inputs":` }),
			want: []string{"checkpoint spec"}},
		{name: "weight shape does not match the spec", metaOnly: true,
			data: rewrite(t, good, func(f *safetensors.File) {
				var sj map[string]any
				require.NoError(t, json.Unmarshal([]byte(f.Metadata[nn.MetaSpec]), &sj))
				sj["hidden"] = []int{5}
				b, err := json.Marshal(sj)
				require.NoError(t, err)
				f.Metadata[nn.MetaSpec] = string(b)
			}),
			want: []string{"layers.0.weight", "has shape [8 2]", "wants [5 2]"}},
		{name: "metadata claims huge layers", metaOnly: true,
			data: rewrite(t, good, func(f *safetensors.File) {
				var sj map[string]any
				require.NoError(t, json.Unmarshal([]byte(f.Metadata[nn.MetaSpec]), &sj))
				sj["hidden"] = []int{46000, 46000}
				b, err := json.Marshal(sj)
				require.NoError(t, err)
				f.Metadata[nn.MetaSpec] = string(b)
			}),
			want: []string{"layers.0.weight", "has shape [8 2]", "wants [46000 2]",
				"the metadata's model 2-46000-46000-1 tanh binary claims 2116230001 parameters, the file holds 33 values"}},
		{name: "NaN weight",
			data: rewrite(t, good, func(f *safetensors.File) { f.Tensor("layers.1.weight").Data[3] = math.NaN() }),
			want: []string{"checkpoint tensor layers.1.weight holds NaN at [0,3]", "non-finite parameter"}},
		{name: "infinite bias",
			data: rewrite(t, good, func(f *safetensors.File) { f.Tensor("layers.0.bias").Data[7] = math.Inf(-1) }),
			want: []string{"checkpoint tensor layers.0.bias holds -Inf at [7]"}},
		{name: "negative epoch", metaOnly: true,
			data: rewrite(t, good, func(f *safetensors.File) { f.Metadata[nn.MetaTraining] = `{"epoch":-3,"step":10}` }),
			want: []string{"checkpoint training info: epoch is -3, want 0 or more"}},
		{name: "negative step", metaOnly: true,
			data: rewrite(t, good, func(f *safetensors.File) { f.Metadata[nn.MetaTraining] = `{"epoch":3,"step":-1}` }),
			want: []string{"checkpoint training info: step is -1"}},
		{name: "best epoch after the last", metaOnly: true,
			data: rewrite(t, good, func(f *safetensors.File) {
				f.Metadata[nn.MetaTraining] = `{"epoch":3,"step":9,"validation":{"fraction":0.1,"rows":2,"best_epoch":7}}`
			}),
			want: []string{"validation.best_epoch is 7, want 0 to the epoch, 3"}},
		{name: "bias shape does not match the spec",
			data: rewrite(t, good, func(f *safetensors.File) { f.Tensor("layers.0.bias").Shape = []int{4, 2} }),
			want: []string{"layers.0.bias", "has shape [4 2]", "wants [8]"}},
		{name: "transposed weight",
			data: rewrite(t, good, func(f *safetensors.File) { f.Tensor("layers.1.weight").Shape = []int{8, 1} }),
			want: []string{"layers.1.weight", "has shape [8 1]", "wants [1 8]"}},
		{name: "missing tensor",
			data: rewrite(t, good, func(f *safetensors.File) {
				f.Tensors = slicesDelete(f.Tensors, "layers.1.bias")
			}),
			want: []string{"no tensor layers.1.bias"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "model.safetensors")
			if tt.data != nil {
				require.NoError(t, os.WriteFile(path, tt.data, 0o644))
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			m, err := nn.Load(path, cpuref.New())
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			require.Error(t, err)
			assert.Nil(t, m)
			msg := err.Error()
			t.Log(msg)
			assert.True(t, strings.HasPrefix(msg, "nn: "), msg)
			assert.Contains(t, msg, path, "the error names the file")
			for _, w := range tt.want {
				assert.Contains(t, msg, w)
			}
			if tt.data == nil {
				assert.ErrorIs(t, err, os.ErrNotExist)
			}
			if tt.format {
				assert.ErrorIs(t, err, safetensors.ErrFormat)
			}
			assert.Less(t, took, 2*time.Second, "a bad file is rejected quickly")
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20),
				"a bad file allocates next to nothing, whatever it claims")

			// LoadParams gives the same verdict on the file.
			other := newModel(t, cpuref.New(), xorSpec, 2)
			perr := other.LoadParams(path)
			if tt.metaOnly {
				assert.NoError(t, perr)
				return
			}
			require.Error(t, perr)
			assert.Contains(t, perr.Error(), path)
		})
	}
}

func slicesDelete(ts []safetensors.Tensor, name string) []safetensors.Tensor {
	out := ts[:0]
	for _, tn := range ts {
		if tn.Name != name {
			out = append(out, tn)
		}
	}
	return out
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestSaveFailureKeepsOldCheckpoint: a Save that fails leaves the previous
// checkpoint byte-identical and loadable, and no temporary file behind.
func TestSaveFailureKeepsOldCheckpoint(t *testing.T) {
	b := cpuref.New()
	setup := func(t *testing.T) (dir, path string, old []byte) {
		dir = t.TempDir()
		path = filepath.Join(dir, "model.safetensors")
		require.NoError(t, newModel(t, b, xorSpec, 1).Save(path))
		old, err := os.ReadFile(path)
		require.NoError(t, err)
		return dir, path, old
	}
	check := func(t *testing.T, dir, path string, old []byte) {
		t.Helper()
		now, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, old, now, "the old checkpoint is byte-identical")
		assert.Equal(t, []string{filepath.Base(path)}, dirNames(t, dir), "no temporary file is left behind")
		l, err := nn.Load(path, b)
		require.NoError(t, err)
		l.Free()
	}

	t.Run("non-finite parameters", func(t *testing.T) {
		dir, path, old := setup(t)
		bad := newModel(t, b, xorSpec, 2)
		ps, err := bad.Params()
		require.NoError(t, err)
		ps[1].B[0] = math.Inf(1)
		require.NoError(t, bad.SetParams(ps))
		err = bad.Save(path)
		assert.ErrorContains(t, err, "refusing to save")
		check(t, dir, path, old)
	})

	t.Run("read-only folder", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root ignores folder permissions (see the RLIMIT_FSIZE test for a failure root cannot bypass)")
		}
		dir, path, old := setup(t)
		require.NoError(t, os.Chmod(dir, 0o555))
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		err := newModel(t, b, xorSpec, 2).Save(path)
		require.Error(t, err)
		assert.Contains(t, err.Error(), path)
		check(t, dir, path, old)
	})

	t.Run("target is a folder", func(t *testing.T) {
		// The rename fails after the temporary file is complete.
		dir := t.TempDir()
		path := filepath.Join(dir, "model.safetensors")
		require.NoError(t, os.Mkdir(path, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(path, "keep"), []byte("x"), 0o644))
		err := newModel(t, b, xorSpec, 2).Save(path)
		require.Error(t, err)
		assert.Contains(t, err.Error(), path)
		assert.Equal(t, []string{"model.safetensors"}, dirNames(t, dir), "no temporary file is left behind")
		assert.Equal(t, []string{"keep"}, dirNames(t, path))
	})

	t.Run("missing folder", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "nope", "model.safetensors")
		err := newModel(t, b, xorSpec, 2).Save(path)
		require.Error(t, err)
		assert.Contains(t, err.Error(), path)
		assert.Empty(t, dirNames(t, dir))
	})

	t.Run("stale temporary file from a crashed save", func(t *testing.T) {
		// A writer killed mid-save leaves only its temporary file: the
		// checkpoint itself is still the old one, and the next Save works.
		dir, path, old := setup(t)
		stale := filepath.Join(dir, ".model.safetensors.123.tmp")
		require.NoError(t, os.WriteFile(stale, old[:len(old)/2], 0o600))
		l, err := nn.Load(path, b)
		require.NoError(t, err)
		l.Free()
		m2 := newModel(t, b, xorSpec, 2)
		require.NoError(t, m2.Save(path))
		l, err = nn.Load(path, b)
		require.NoError(t, err)
		defer l.Free()
		want, _ := m2.Params()
		got, _ := l.Params()
		assert.Equal(t, want, got)
		assert.ElementsMatch(t, []string{"model.safetensors", ".model.safetensors.123.tmp"}, dirNames(t, dir))
	})
}

// float32Backend is cpuref reporting float32 precision, to exercise the F32
// checkpoint path that GPU backends take.
type float32Backend struct{ backend.Backend }

func (b float32Backend) Info() backend.Info {
	i := b.Backend.Info()
	i.Precision = "float32"
	return i
}

// TestCheckpointDTypes: float64 backends save F64 (exact round trip, checked
// bit for bit), float32 ones F32 (values rounded to float32 once).
func TestCheckpointDTypes(t *testing.T) {
	m := newModel(t, cpuref.New(), blobSpec, 3)
	ps, err := m.Params()
	require.NoError(t, err)
	ps[0].B[0] = 0.1 // not a float32
	ps[0].W[0] = math.Pi
	require.NoError(t, m.SetParams(ps))

	dir := t.TempDir()
	p64, p32 := filepath.Join(dir, "f64.safetensors"), filepath.Join(dir, "f32.safetensors")
	require.NoError(t, m.Save(p64))
	m32 := newModel(t, float32Backend{cpuref.New()}, blobSpec, 9)
	require.NoError(t, m32.SetParams(ps))
	require.NoError(t, m32.Save(p32))

	for _, c := range []struct {
		path string
		dt   safetensors.DType
	}{{p64, safetensors.F64}, {p32, safetensors.F32}} {
		f, err := safetensors.Read(c.path)
		require.NoError(t, err)
		for _, tn := range f.Tensors {
			assert.Equal(t, c.dt, tn.DType, "%s in %s", tn.Name, c.path)
		}
	}

	l, err := nn.Load(p64, cpuref.New())
	require.NoError(t, err)
	defer l.Free()
	got, err := l.Params()
	require.NoError(t, err)
	for i := range ps {
		for j, v := range ps[i].W {
			require.Equal(t, math.Float64bits(v), math.Float64bits(got[i].W[j]), "F64 layer %d W[%d]", i, j)
		}
		for j, v := range ps[i].B {
			require.Equal(t, math.Float64bits(v), math.Float64bits(got[i].B[j]), "F64 layer %d B[%d]", i, j)
		}
	}

	l32, err := nn.Load(p32, cpuref.New())
	require.NoError(t, err)
	defer l32.Free()
	got, err = l32.Params()
	require.NoError(t, err)
	for i := range ps {
		for j, v := range ps[i].W {
			require.Equal(t, float64(float32(v)), got[i].W[j], "F32 layer %d W[%d]", i, j)
		}
		for j, v := range ps[i].B {
			require.Equal(t, float64(float32(v)), got[i].B[j], "F32 layer %d B[%d]", i, j)
		}
	}
}
