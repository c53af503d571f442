package data

import (
	"bytes"
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

// FuzzCSV feeds arbitrary text to the CSV reader under both NA policies.
func FuzzCSV(f *testing.F) {
	f.Add("a,b\n1,2\n3,4\n", false)
	f.Add("a,b\n1,NA\n3,4\n", true)
	f.Add("a,b\n1,2\n3\n", false)
	f.Add("a,\"b\"\r\n\"1\",2e3\r\n", false)
	f.Add("a,b\n1,\"2\n", true)
	f.Add("\ufeffb,a,c\n1,2,x\n,,\n", true)
	f.Add("", false)
	f.Add("a,b\n", true)
	f.Add("a,a,b\n1,2,3\n", false)
	f.Fuzz(func(t *testing.T, text string, drop bool) {
		na := NAError
		if drop {
			na = NADrop
		}
		set, rep, err := readCSV("f.csv", bytes.NewReader([]byte(text)), []string{"a"}, "b", na)
		if err != nil {
			if set != nil {
				t.Fatal("set returned with an error")
			}
			return
		}
		if set.Rows <= 0 || set.Cols != 1 || len(set.Features) != set.Rows || len(set.Labels) != set.Rows || rep.Rows != set.Rows {
			t.Fatalf("inconsistent set: rows %d cols %d features %d labels %d report %+v", set.Rows, set.Cols, len(set.Features), len(set.Labels), rep)
		}
		if !drop && rep.Dropped != 0 {
			t.Fatal("dropped rows under NAError")
		}
		if err := set.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}
