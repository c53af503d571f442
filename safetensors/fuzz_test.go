package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzRead feeds arbitrary bytes to Decode: it must never panic, and a file
// it accepts must be consistent (each tensor's data matches its shape, its
// dtype is F32 or F64) and survive an Encode/Decode round trip unchanged:
// same names, shapes and dtypes, the same values bit for bit (NaNs only
// need to stay NaNs), and a second Encode gives the same bytes.
func FuzzRead(f *testing.F) {
	good, err := Encode("seed", sample(), map[string]string{"arch": "mlp"})
	require.NoError(f, err)
	f.Add(good)
	f.Add(file(`{}`, nil))
	f.Add(file(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(file(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}`,
		append(binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.1)), f32(1, 2)...)))
	f.Add(file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(1, 2)))
	f.Add(file(`{"a":{"dtype":"F32","shape":[100000,100000],"data_offsets":[0,8]}}`, f32(1, 2)))
	f.Add(file(`{"a":{"dtype":"F64","shape":[1073741824,1073741824],"data_offsets":[0,8]}}`, f32(1, 2)))
	f.Add(file(`{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}`, f32(1, 2)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Decode("fuzz", b)
		if err != nil {
			return
		}
		for _, tn := range got.Tensors {
			n, err := numel(tn.Shape, uint64(len(b)))
			if err != nil || int(n) != len(tn.Data) {
				t.Fatalf("tensor %q: shape %v but %d values", tn.Name, tn.Shape, len(tn.Data))
			}
			if tn.DType != F32 && tn.DType != F64 {
				t.Fatalf("tensor %q: dtype %q", tn.Name, tn.DType)
			}
		}
		enc, err := Encode("fuzz", got.Tensors, got.Metadata)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := Decode("fuzz", enc)
		if err != nil {
			t.Fatalf("decode of re-encoded file: %v", err)
		}
		if len(again.Tensors) != len(got.Tensors) {
			t.Fatalf("round trip: %d tensors, want %d", len(again.Tensors), len(got.Tensors))
		}
		for i, a := range again.Tensors {
			g := got.Tensors[i]
			if a.Name != g.Name || a.DType != g.DType || len(a.Data) != len(g.Data) || len(a.Shape) != len(g.Shape) {
				t.Fatalf("round trip: tensor %v %s, want %v %s", a, a.DType, g, g.DType)
			}
			for j, v := range a.Data {
				w := g.Data[j]
				if math.Float64bits(v) != math.Float64bits(w) && !(math.IsNaN(v) && math.IsNaN(w)) {
					t.Fatalf("round trip: tensor %q value %d is %v, want %v", a.Name, j, v, w)
				}
			}
		}
		enc2, err := Encode("fuzz", again.Tensors, again.Metadata)
		if err != nil {
			t.Fatalf("second re-encode: %v", err)
		}
		if !bytes.Equal(enc, enc2) {
			t.Fatal("Encode(Decode(Encode(x))) differs from Encode(x)")
		}
	})
}
