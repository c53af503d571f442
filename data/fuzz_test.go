package data

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzIDX feeds arbitrary bytes to the IDX readers, raw and gzip: they must
// never panic, and anything they accept must be consistent with its header.
func FuzzIDX(f *testing.F) {
	f.Add(idxImages(3, 2, 2), false)
	f.Add(idxLabels(1, 2, 9), true)
	f.Add(gz(f, idxImages(2, 3, 3)), false)
	f.Add(gz(f, idxLabels(0, 5)), true)
	f.Add(idxImages(3, 2, 2)[:13], false)
	f.Add(idxLabels(1, 12, 9), true)
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0}, false)
	f.Add([]byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1}, false)
	f.Add([]byte{}, true)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte, labels bool) {
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if labels {
			l, err := ReadIDXLabels(p)
			if err != nil {
				return
			}
			if len(l) == 0 {
				t.Fatal("accepted no labels")
			}
			for _, v := range l {
				if v > 9 {
					t.Fatalf("accepted label %d", v)
				}
			}
			return
		}
		r, c, n, pix, err := ReadIDXImages(p)
		if err != nil {
			if pix != nil {
				t.Fatal("pixels returned with an error")
			}
			return
		}
		if r <= 0 || c <= 0 || n <= 0 || len(pix) != r*c*n {
			t.Fatalf("accepted %d images of %dx%d with %d pixels", n, r, c, len(pix))
		}
		if len(b) > 2 && b[0] != 0x1f && len(pix) != len(b)-16 {
			t.Fatalf("raw file of %d bytes gave %d pixels", len(b), len(pix))
		}
	})
}
