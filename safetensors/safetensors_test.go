package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sample() []Tensor {
	return []Tensor{
		{Name: "fc2.weight", Shape: []int{2, 3}, Data: []float64{1, 2, 3, 4, 5, math.Inf(1)}},
		{Name: "fc1.bias", Shape: []int{3}, Data: []float64{-1, 0.5, math.NaN()}},
		{Name: "scalar", Shape: []int{}, DType: F64, Data: []float64{0.1}},
		{Name: "empty", Shape: []int{0, 4}, DType: F32, Data: []float64{}},
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.safetensors")
	meta := map[string]string{"arch": "784-128-10", "note": `quotes " and \ and <>`}
	require.NoError(t, Write(path, sample(), meta))

	f, err := Read(path)
	require.NoError(t, err)
	assert.Equal(t, meta, f.Metadata)
	names := []string{}
	for _, tn := range f.Tensors {
		names = append(names, tn.Name)
	}
	assert.Equal(t, []string{"empty", "fc1.bias", "fc2.weight", "scalar"}, names)
	w := f.Tensor("fc2.weight")
	require.NotNil(t, w)
	assert.Equal(t, []int{2, 3}, w.Shape)
	assert.Equal(t, F32, w.DType, "an empty DType is written as F32")
	assert.Equal(t, []float64{1, 2, 3, 4, 5}, w.Data[:5])
	assert.True(t, math.IsInf(w.Data[5], 1))
	b := f.Tensor("fc1.bias")
	assert.True(t, math.IsNaN(b.Data[2]))
	assert.Equal(t, []int{}, f.Tensor("scalar").Shape)
	assert.Equal(t, F64, f.Tensor("scalar").DType)
	assert.Equal(t, []float64{0.1}, f.Tensor("scalar").Data, "F64 is exact")
	assert.Empty(t, f.Tensor("empty").Data)
	assert.Equal(t, F32, f.Tensor("empty").DType)
	assert.Nil(t, f.Tensor("missing"))

	// Layout: header length is a multiple of 8 and padded with spaces, data
	// is little-endian F32 in name order.
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	n := binary.LittleEndian.Uint64(raw)
	assert.Zero(t, n%8)
	var hdr map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw[8:8+n], &hdr))
	assert.Contains(t, string(hdr["fc1.bias"]), `"dtype":"F32"`)
	assert.Contains(t, string(hdr["fc1.bias"]), `"data_offsets":[0,12]`)
	assert.Equal(t, float32(-1), math.Float32frombits(binary.LittleEndian.Uint32(raw[8+n:])))
	assert.Contains(t, string(hdr["scalar"]), `"dtype":"F64"`)
	assert.Contains(t, string(hdr["scalar"]), `"data_offsets":[36,44]`)
	assert.Equal(t, 0.1, math.Float64frombits(binary.LittleEndian.Uint64(raw[8+n+36:])))

	// Decode agrees with Read.
	g, err := Decode("mem", raw)
	require.NoError(t, err)
	assert.Equal(t, len(f.Tensors), len(g.Tensors))
	assert.Equal(t, f.Tensor("fc2.weight").Data[:5], g.Tensor("fc2.weight").Data[:5])
}

func TestWriteNoMetadata(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, Write(path, []Tensor{{Name: "a", Shape: []int{1}, Data: []float64{1}}}, nil))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "__metadata__")
	f, err := Read(path)
	require.NoError(t, err)
	assert.Nil(t, f.Metadata)
}

func TestWriteErrorsLeaveOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	require.NoError(t, Write(path, []Tensor{{Name: "a", Shape: []int{1}, Data: []float64{1}}}, nil))
	old, err := os.ReadFile(path)
	require.NoError(t, err)
	tests := []struct {
		name    string
		tensors []Tensor
		want    string
	}{
		{"shape mismatch", []Tensor{{Name: "w", Shape: []int{2, 2}, Data: []float64{1}}}, `tensor "w": shape [2 2] holds 4 elements but data has 1`},
		{"duplicate", []Tensor{{Name: "w", Shape: []int{1}, Data: []float64{1}}, {Name: "w", Shape: []int{1}, DType: F64, Data: []float64{1}}}, `"w" given twice`},
		{"empty name", []Tensor{{Shape: []int{1}, Data: []float64{1}}}, "empty name"},
		{"reserved", []Tensor{{Name: "__metadata__", Shape: []int{1}, Data: []float64{1}}}, "reserved"},
		{"unsupported dtype", []Tensor{{Name: "w", Shape: []int{1}, DType: "F16", Data: []float64{1}}}, `tensor "w": dtype "F16" not supported (only F32 and F64)`},
		{"lowercase dtype", []Tensor{{Name: "w", Shape: []int{1}, DType: "f64", Data: []float64{1}}}, `tensor "w": dtype "f64" not supported`},
		{"negative", []Tensor{{Name: "w", Shape: []int{-1}, Data: nil}}, "dimension 0 is -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Write(path, tt.tensors, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), path)
			now, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.Equal(t, old, now)
		})
	}
	// A folder that does not exist: error, nothing created.
	err = Write(filepath.Join(dir, "nope", "m.safetensors"), sample(), nil)
	require.Error(t, err)
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, ents, 1, "no temporary files left behind")
}

func TestWriteReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores folder permissions")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	require.NoError(t, Write(path, sample(), nil))
	require.NoError(t, os.Chmod(dir, 0o555))
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	require.Error(t, Write(path, sample()[:1], nil))
	f, err := Read(path)
	require.NoError(t, err)
	assert.Len(t, f.Tensors, 4)
}

// file builds a safetensors file from a raw header and data.
func file(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func f32(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func TestReadF64(t *testing.T) {
	vs := []float64{1.5, -2, 1e-3, math.Pi, math.SmallestNonzeroFloat64, math.MaxFloat64}
	var data []byte
	for _, v := range vs {
		data = binary.LittleEndian.AppendUint64(data, math.Float64bits(v))
	}
	b := file(`{"x":{"dtype":"F64","shape":[2,3],"data_offsets":[0,48]}}`, data)
	path := filepath.Join(t.TempDir(), "f64.safetensors")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	f, err := Read(path)
	require.NoError(t, err)
	assert.Equal(t, F64, f.Tensors[0].DType)
	assert.Equal(t, vs, f.Tensors[0].Data, "F64 values are read without loss")

	// Written back, the file is byte-identical (modulo header padding,
	// which this file lacks and Write adds).
	enc, err := Encode("x", f.Tensors, nil)
	require.NoError(t, err)
	assert.Equal(t, data, enc[len(enc)-len(data):])
}

// TestDTypeRoundTrip: F64 tensors survive Write/Read bit for bit, F32 ones
// are rounded to the nearest float32 once and then stay put.
func TestDTypeRoundTrip(t *testing.T) {
	vs := []float64{0.1, 1.0 / 3, -math.Pi, 1e300, math.Copysign(0, -1), math.Inf(-1), 5e-324}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	in := []Tensor{
		{Name: "a64", Shape: []int{len(vs)}, DType: F64, Data: vs},
		{Name: "b32", Shape: []int{len(vs)}, DType: F32, Data: vs},
	}
	require.NoError(t, Write(path, in, nil))
	f, err := Read(path)
	require.NoError(t, err)
	a, b := f.Tensor("a64"), f.Tensor("b32")
	assert.Equal(t, F64, a.DType)
	assert.Equal(t, F32, b.DType)
	for i, v := range vs {
		assert.Equal(t, math.Float64bits(v), math.Float64bits(a.Data[i]), "F64 value %d", i)
		assert.Equal(t, math.Float64bits(float64(float32(v))), math.Float64bits(b.Data[i]), "F32 value %d", i)
	}
	// What was read writes back to the same bytes.
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	again, err := Encode(path, f.Tensors, nil)
	require.NoError(t, err)
	assert.Equal(t, raw, again)
}

func TestDecodeErrors(t *testing.T) {
	good := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	huge := binary.LittleEndian.AppendUint64(nil, 1<<40)
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "too short for the 8-byte header length"},
		{"short", []byte{1, 2, 3}, "too short"},
		{"absurd header length", append(huge, "{}"...), "exceeds the 100000000-byte limit"},
		{"header past end", file(good, nil)[:20], "exceeds the 12 bytes after it"},
		{"not json", file(`hello world`, nil), "does not start with '{'"},
		{"invalid json", file(`{"a":`, nil), "invalid JSON"},
		{"trailing garbage", file(`{}x`, nil), "data after the JSON object"},
		{"duplicate key", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(1, 2)), `key "a" appears twice`},
		{"unknown dtype", file(`{"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}`, f32(1, 2)), `tensor "a": unknown dtype "Q7"`},
		{"unsupported dtype", file(`{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}`, f32(1, 2)), `tensor "a": dtype F16 not supported`},
		{"no dtype", file(`{"a":{"shape":[2],"data_offsets":[0,8]}}`, f32(1, 2)), `tensor "a": no dtype`},
		{"no shape", file(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, f32(1, 2)), `tensor "a": no shape`},
		{"no offsets", file(`{"a":{"dtype":"F32","shape":[2]}}`, f32(1, 2)), `tensor "a": no data_offsets`},
		{"three offsets", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}`, f32(1, 2)), "has 3 values"},
		{"unknown field", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}`, f32(1, 2)), `tensor "a"`},
		{"negative dim", file(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, f32(1, 2)), "negative"},
		{"offsets reversed", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}`, f32(1, 2)), "out of range"},
		{"offsets past end", file(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, f32(1, 2)), "out of range of the 8-byte data section"},
		{"shape mismatch", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32(1, 2, 3, 4)), "needs 12 bytes but data_offsets [0, 8] span 8"},
		{"huge shape", file(`{"a":{"dtype":"F32","shape":[100000,100000,100000],"data_offsets":[0,8]}}`, f32(1, 2)), "more than the 8-byte data section can hold"},
		{"overflow shape", file(`{"a":{"dtype":"F32","shape":[2147483647,2147483647,2147483647,2147483647],"data_offsets":[0,8]}}`, f32(1, 2)), "more than"},
		{"huge F64 shape", file(`{"a":{"dtype":"F64","shape":[1073741824,1073741824],"data_offsets":[0,8]}}`, f32(1, 2)), `tensor "a": shape [1073741824 1073741824] of F64 holds more than the 8-byte data section can hold`},
		{"F64 size mismatch", file(`{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}`, f32(1, 2, 3, 4)), "shape [2] of F64 needs 16 bytes but data_offsets [0, 8] span 8"},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(1, 2)), "overlap"},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(1, 2)), "leave bytes 0..4 of the data unused"},
		{"trailing data", file(good, f32(1, 2, 3)), "tensors cover 8 bytes but the data section holds 12"},
		{"metadata not strings", file(`{"__metadata__":{"a":1}}`, nil), "__metadata__: want an object of string values"},
		{"top level array", file(`[1,2]`, nil), "does not start with '{'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode("x.safetensors", tt.b)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "safetensors: x.safetensors: "), err.Error())
			assert.ErrorIs(t, err, ErrFormat)

			// Read gives the same verdict on the same bytes.
			path := filepath.Join(t.TempDir(), "x.safetensors")
			require.NoError(t, os.WriteFile(path, tt.b, 0o644))
			_, rerr := Read(path)
			require.Error(t, rerr)
			assert.Contains(t, rerr.Error(), tt.want)
			assert.Contains(t, rerr.Error(), path)
		})
	}
}

func TestDecodeAcceptsSpecVariants(t *testing.T) {
	// Offsets out of name order, an unpadded header, empty metadata, a
	// zero-size tensor and a header with whitespace.
	h := ` {"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}, "a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},
"z":{"dtype":"F32","shape":[0],"data_offsets":[8,8]},"__metadata__":{}}`
	f, err := Decode("v", file(strings.TrimPrefix(h, " "), f32(1, 2)))
	require.NoError(t, err)
	require.Len(t, f.Tensors, 3)
	assert.Equal(t, "a", f.Tensors[0].Name)
	assert.Equal(t, []float64{2}, f.Tensors[0].Data)
	assert.Equal(t, []float64{1}, f.Tensors[1].Data)
	// No tensors at all.
	f, err = Decode("v", file(`{}`, nil))
	require.NoError(t, err)
	assert.Empty(t, f.Tensors)
}

func TestReadMissingFile(t *testing.T) {
	_, err := Read(filepath.Join(t.TempDir(), "none.safetensors"))
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "none.safetensors")
	_, err = Read(t.TempDir())
	require.Error(t, err)
}

func TestEncodeDeterministic(t *testing.T) {
	a, err := Encode("a", sample(), map[string]string{"k": "v", "j": "w"})
	require.NoError(t, err)
	s := sample()
	s[0], s[3] = s[3], s[0]
	b, err := Encode("b", s, map[string]string{"j": "w", "k": "v"})
	require.NoError(t, err)
	assert.Equal(t, a, b)
}
