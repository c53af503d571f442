package safetensors

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEncodeRefusesHeaderReadRefuses: a header over the limit Read
// accepts is refused by Encode and Write (the old file kept), so nothing is
// written that cannot be read back; at the limit it round-trips.
func TestEncodeRefusesHeaderReadRefuses(t *testing.T) {
	old := maxHeaderSize
	maxHeaderSize = 4096
	t.Cleanup(func() { maxHeaderSize = old })
	ts := []Tensor{{Name: "w", Shape: []int{2}, Data: []float64{1, 2}}}
	tests := []struct {
		name    string
		meta    int // bytes of metadata value
		refused bool
	}{
		{"small", 100, false},
		{"near the limit", 3900, false},
		{"over the limit", 5000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta := map[string]string{"k": strings.Repeat("x", tt.meta)}
			p := filepath.Join(t.TempDir(), "m.safetensors")
			require.NoError(t, os.WriteFile(p, []byte("old"), 0o644))
			_, encErr := Encode("m", ts, meta)
			writeErr := Write(p, ts, meta)
			if tt.refused {
				require.Error(t, encErr)
				assert.Contains(t, encErr.Error(), "over the 4096-byte limit that readers, this one included, accept")
				require.Error(t, writeErr)
				b, _ := os.ReadFile(p)
				assert.Equal(t, "old", string(b), "the old file is kept")
				return
			}
			require.NoError(t, encErr)
			require.NoError(t, writeErr)
			f, err := Read(p)
			require.NoError(t, err)
			assert.Equal(t, meta, f.Metadata)
		})
	}
}
