package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// idxImages builds an IDX images file of n images of r x c pixels; pixel j
// of image i is byte(i+j).
func idxImages(n, r, c int) []byte {
	b := binary.BigEndian.AppendUint32(nil, idxImagesMagic)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = binary.BigEndian.AppendUint32(b, uint32(r))
	b = binary.BigEndian.AppendUint32(b, uint32(c))
	for i := range n {
		for j := range r * c {
			b = append(b, byte(i+j))
		}
	}
	return b
}

// idxLabels builds an IDX labels file holding labels.
func idxLabels(labels ...byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, idxLabelsMagic)
	b = binary.BigEndian.AppendUint32(b, uint32(len(labels)))
	return append(b, labels...)
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, err := w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

// idxDir writes a small valid MNIST-layout folder: 6 training and 4 test
// images of 3x2 pixels. files overrides the content of chosen files (by
// base name, with ".gz" when zipped); a nil value leaves the file out.
func idxDir(t testing.TB, zipped bool, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	content := map[string][]byte{
		TrainImagesFile: idxImages(6, 3, 2),
		TrainLabelsFile: idxLabels(0, 1, 2, 1, 0, 9),
		TestImagesFile:  idxImages(4, 3, 2),
		TestLabelsFile:  idxLabels(1, 0, 9, 1),
	}
	for base, b := range content {
		name := base
		if zipped {
			name += ".gz"
			b = gz(t, b)
		}
		if o, ok := files[name]; ok {
			if o == nil {
				continue
			}
			b = o
		}
		writeFile(t, dir, name, b)
	}
	return dir
}

func TestLoadIDXGood(t *testing.T) {
	for _, zipped := range []bool{false, true} {
		sp, err := LoadIDX(idxDir(t, zipped, nil))
		require.NoError(t, err, "zipped=%v", zipped)
		tr, te := sp.Train, sp.Test
		assert.Equal(t, 6, tr.Rows)
		assert.Equal(t, 6, tr.Cols)
		assert.Equal(t, 2, tr.Width)
		assert.Equal(t, 3, tr.Height)
		assert.Equal(t, 4, te.Rows)
		assert.Equal(t, 10, tr.Classes)
		assert.Equal(t, 1, tr.Outputs)
		assert.Equal(t, []float64{0, 1, 2, 1, 0, 9}, tr.Labels)
		assert.Equal(t, []float64{1, 0, 9, 1}, te.Labels)
		assert.Equal(t, idxImages(6, 3, 2)[16:], tr.Pixels)
		assert.Nil(t, tr.Features)
		assert.False(t, sp.Synthetic)
		assert.Len(t, tr.ClassNames, 10)
		require.NoError(t, tr.Validate())
		require.NoError(t, te.Validate())
		assert.Equal(t, []float64{1.0 / 255, 2.0 / 255}, tr.Row(nil, 1)[:2])
	}
}

// TestLoadIDXGzipByMagic checks that gzip is detected by content: a raw
// file named .gz and a gzip file without the suffix both load.
func TestLoadIDXGzipByMagic(t *testing.T) {
	dir := idxDir(t, false, map[string][]byte{TrainImagesFile: nil})
	writeFile(t, dir, TrainImagesFile+".gz", idxImages(6, 3, 2)) // raw bytes, .gz name
	_, err := LoadIDX(dir)
	require.NoError(t, err)

	dir = idxDir(t, false, map[string][]byte{TrainLabelsFile: gz(t, idxLabels(0, 1, 2, 1, 0, 9))})
	sp, err := LoadIDX(dir)
	require.NoError(t, err)
	assert.Equal(t, 9.0, sp.Train.Labels[5])
}

func TestLoadIDXErrors(t *testing.T) {
	good := idxImages(6, 3, 2)
	huge := binary.BigEndian.AppendUint32(nil, idxImagesMagic)
	huge = binary.BigEndian.AppendUint32(huge, 0xffffffff)
	huge = binary.BigEndian.AppendUint32(huge, 0xffffffff)
	huge = binary.BigEndian.AppendUint32(huge, 0xffffffff)
	hugeLabels := binary.BigEndian.AppendUint32(nil, idxLabelsMagic)
	hugeLabels = binary.BigEndian.AppendUint32(hugeLabels, 1<<31)
	corrupt := gz(t, good)
	corrupt = append([]byte(nil), corrupt...)
	corrupt[len(corrupt)-6] ^= 0xff // CRC/size trailer
	flipped := append([]byte(nil), gz(t, good)...)
	flipped[12] ^= 0x55
	tests := []struct {
		name    string
		zipped  bool
		files   map[string][]byte
		wantErr []string
	}{
		{"wrong magic", false, map[string][]byte{TrainImagesFile: idxLabels(1, 2, 3)},
			[]string{TrainImagesFile, "header", "wrong magic 2049 (a labels file), want 2051"}},
		{"labels magic", false, map[string][]byte{TestLabelsFile: good},
			[]string{TestLabelsFile, "wrong magic 2051"}},
		{"truncated header", false, map[string][]byte{TrainImagesFile: good[:10]},
			[]string{TrainImagesFile, "header: truncated: 10 of 16 bytes"}},
		{"truncated magic", false, map[string][]byte{TrainLabelsFile: {0, 0}},
			[]string{TrainLabelsFile, "header: truncated: 2 of 8 bytes"}},
		{"truncated body", false, map[string][]byte{TrainImagesFile: good[:16+6*5+3]},
			[]string{TrainImagesFile, "header: image count 6 (3x2) but body holds 5 images"}},
		{"truncated body gz", true, map[string][]byte{TrainImagesFile + ".gz": gz(t, good[:16+6*2])},
			[]string{TrainImagesFile + ".gz", "image count 6 (3x2) but body holds 2 images"}},
		{"truncated labels", false, map[string][]byte{TestLabelsFile: idxLabels(1, 2, 3, 4)[:10]},
			[]string{TestLabelsFile, "label count 4 but body holds 2 labels"}},
		{"trailing data", false, map[string][]byte{TrainImagesFile: append(append([]byte(nil), good...), 7)},
			[]string{TrainImagesFile, "trailing data"}},
		{"count mismatch", false, map[string][]byte{TrainLabelsFile: idxLabels(0, 1, 2)},
			[]string{TrainImagesFile, "image count 6", TrainLabelsFile, "label count 3"}},
		{"label out of range", false, map[string][]byte{TestLabelsFile: idxLabels(1, 0, 10, 1)},
			[]string{TestLabelsFile, "body: label 10 (item 2) out of range 0..9"}},
		{"empty file", false, map[string][]byte{TestImagesFile: {}},
			[]string{TestImagesFile, "empty file"}},
		{"empty gzip", true, map[string][]byte{TestImagesFile + ".gz": gz(t, nil)},
			[]string{TestImagesFile, "empty file"}},
		{"missing file", false, map[string][]byte{TestLabelsFile: nil},
			[]string{"missing " + TestLabelsFile + "[.gz]", "the folder holds: " + TestImagesFile + ", " + TrainImagesFile}},
		{"corrupt gzip trailer", true, map[string][]byte{TrainImagesFile + ".gz": corrupt},
			[]string{TrainImagesFile + ".gz", "corrupt gzip"}},
		{"corrupt gzip data", true, map[string][]byte{TrainImagesFile + ".gz": flipped},
			[]string{TrainImagesFile + ".gz", "gzip"}},
		{"cut gzip", true, map[string][]byte{TrainImagesFile + ".gz": gz(t, good)[:20]},
			[]string{TrainImagesFile + ".gz"}},
		{"bad gzip header", true, map[string][]byte{TrainImagesFile + ".gz": {0x1f, 0x8b, 1, 2, 3}},
			[]string{TrainImagesFile + ".gz", "corrupt gzip"}},
		{"huge header raw", false, map[string][]byte{TrainImagesFile: huge},
			[]string{TrainImagesFile, "image count 4294967295 (4294967295x4294967295) but body holds 0 images"}},
		{"huge header gz", true, map[string][]byte{TrainImagesFile + ".gz": gz(t, huge)},
			[]string{TrainImagesFile, "body holds 0 images"}},
		{"huge labels gz", true, map[string][]byte{TrainLabelsFile + ".gz": gz(t, hugeLabels)},
			[]string{TrainLabelsFile, "label count 2147483648 but body holds 0 labels"}},
		{"zero images", false, map[string][]byte{TrainImagesFile: idxImages(0, 3, 2)},
			[]string{TrainImagesFile, "image count is 0"}},
		{"zero size", false, map[string][]byte{TrainImagesFile: idxImages(6, 0, 2)},
			[]string{TrainImagesFile, "image size 0x2"}},
		{"size differs", false, map[string][]byte{TestImagesFile: idxImages(4, 2, 2)},
			[]string{"training images have 6 pixels but test images have 4"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp, err := LoadIDX(idxDir(t, tc.zipped, tc.files))
			require.Error(t, err)
			assert.Nil(t, sp)
			for _, w := range tc.wantErr {
				assert.Contains(t, err.Error(), w)
			}
			assert.Regexp(t, `^data: `, err.Error())
		})
	}
}

func TestLoadIDXNotADir(t *testing.T) {
	_, err := LoadIDX(filepath.Join(t.TempDir(), "nope"))
	require.ErrorIs(t, err, os.ErrNotExist)
	f := writeFile(t, t.TempDir(), "file", []byte("x"))
	_, err = LoadIDX(f)
	require.ErrorContains(t, err, "not a directory")

	dir := idxDir(t, false, map[string][]byte{TrainLabelsFile: nil})
	_, err = LoadIDX(dir)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestSubset(t *testing.T) {
	sp, err := LoadIDX(idxDir(t, false, nil))
	require.NoError(t, err)
	sub, err := sp.Subset([]int{9, 0})
	require.NoError(t, err)
	assert.Equal(t, 2, sub.Train.Classes)
	assert.Equal(t, []float64{1, 1, 0}, sub.Train.Labels) // 0,0,9 in file order -> 1,1,0
	assert.Equal(t, 3, sub.Train.Rows)
	assert.Equal(t, []string{"9", "0"}, sub.Train.ClassNames)
	assert.Equal(t, sp.Train.Pixels[0:6], sub.Train.Pixels[0:6])
	assert.Equal(t, sp.Train.Pixels[5*6:6*6], sub.Train.Pixels[2*6:3*6])
	assert.Equal(t, []float64{1, 0}, sub.Test.Labels)
	require.NoError(t, sub.Train.Validate())

	for _, tc := range []struct {
		classes []int
		want    string
	}{
		{[]int{0, 3}, "class 3 not present in the data"},
		{[]int{0, 12}, "class 12 not in 0..9"},
		{[]int{1, 1}, "class 1 given twice"},
		{nil, "no classes given"},
	} {
		_, err := sp.Subset(tc.classes)
		require.ErrorContains(t, err, tc.want, "classes %v", tc.classes)
	}
}

func TestParseClasses(t *testing.T) {
	got, err := ParseClasses("0, 1,7")
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 7}, got)
	for _, bad := range []string{"", "a", "1,,2", "-1"} {
		_, err := ParseClasses(bad)
		assert.Error(t, err, bad)
	}
}
