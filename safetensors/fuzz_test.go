package safetensors

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzRead feeds arbitrary bytes to Decode: it must never panic, and a file
// it accepts must be consistent (each tensor's data matches its shape) and
// survive an Encode/Decode round trip.
func FuzzRead(f *testing.F) {
	good, err := Encode("seed", sample(), map[string]string{"arch": "mlp"})
	require.NoError(f, err)
	f.Add(good)
	f.Add(file(`{}`, nil))
	f.Add(file(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(1, 2)))
	f.Add(file(`{"a":{"dtype":"F32","shape":[100000,100000],"data_offsets":[0,8]}}`, f32(1, 2)))
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
	})
}
