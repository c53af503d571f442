package data

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/internal/shareddata"
)

// The class counts 0..9 of the UCI digits, as ../shared/data/README.md and
// the data set's documentation state them.
var digitsClassCounts = []int{178, 182, 177, 183, 181, 182, 181, 179, 174, 180}

func TestDigitsEmbeddedFile(t *testing.T) {
	sum := sha256.Sum256(digitsCSVGz)
	assert.Equal(t, "46abec6b12486ad9e51943373abcf22bbea1b5a51a1619b361570d8893f1464a", hex.EncodeToString(sum[:]),
		"the embedded file is the one published (digits/README.md)")
	assert.Len(t, digitsCSVGz, 57512)
}

// TestDigitsMatchesSharedCopy: the embedded file is byte for byte the
// shared data folder's (skipped where that folder is absent).
func TestDigitsMatchesSharedCopy(t *testing.T) {
	b, err := os.ReadFile(shareddata.Path(t, "digits/digits.csv.gz"))
	require.NoError(t, err)
	assert.Equal(t, b, digitsCSVGz)
}

func TestDigitsSet(t *testing.T) {
	s, err := DigitsSet()
	require.NoError(t, err)
	require.NoError(t, s.Validate())
	assert.Equal(t, DigitsRows, s.Rows)
	assert.Equal(t, 64, s.Cols)
	assert.Equal(t, 8, s.Width)
	assert.Equal(t, 8, s.Height)
	assert.Equal(t, 16, s.PixelMax)
	assert.Equal(t, 1.0/16, s.PixelScale())
	assert.Equal(t, digitsClassCounts, s.ClassCounts())
	assert.Equal(t, 10, s.Classes)
	// The first image of the file is a 0 whose first row of pixels is
	// 0,0,5,13,9,1,0,0; features are counts/16, as the tutorial scales them.
	assert.Equal(t, 0, s.Label(0))
	assert.Equal(t, []byte{0, 0, 5, 13, 9, 1, 0, 0}, s.Pixels[:8])
	assert.Equal(t, []float64{0, 0, 5.0 / 16, 13.0 / 16, 9.0 / 16, 1.0 / 16, 0, 0}, s.Row(nil, 0)[:8])
	mx := byte(0)
	for _, p := range s.Pixels {
		mx = max(mx, p)
	}
	assert.Equal(t, byte(16), mx, "counts go up to 16")
}

func TestDigitsSplit(t *testing.T) {
	sp, err := Digits()
	require.NoError(t, err)
	assert.False(t, sp.Synthetic)
	assert.Equal(t, "digits train", sp.Train.Name)
	assert.Equal(t, "digits test", sp.Test.Name)
	// round(0.2·n) of each class is held out.
	wantTest := []int{36, 36, 35, 37, 36, 36, 36, 36, 35, 36}
	assert.Equal(t, wantTest, sp.Test.ClassCounts())
	for c, n := range sp.Train.ClassCounts() {
		assert.Equal(t, digitsClassCounts[c]-wantTest[c], n, "class %d", c)
	}
	assert.Equal(t, 1438, sp.Train.Rows)
	assert.Equal(t, 359, sp.Test.Rows)
	require.NoError(t, sp.Train.Validate())
	require.NoError(t, sp.Test.Validate())
	assert.Equal(t, 16, sp.Test.PixelMax)

	// Deterministic: the same split every time.
	again, err := Digits()
	require.NoError(t, err)
	assert.Equal(t, sp.Train.Pixels, again.Train.Pixels)
	assert.Equal(t, sp.Test.Labels, again.Test.Labels)

	// Train and test are disjoint and together are the whole set.
	all, err := DigitsSet()
	require.NoError(t, err)
	seen := map[string]int{}
	for i := range all.Rows {
		seen[string(all.Pixels[i*64:(i+1)*64])+string(rune('0'+all.Label(i)))]++
	}
	for _, s := range []*Set{sp.Train, sp.Test} {
		for i := range s.Rows {
			seen[string(s.Pixels[i*64:(i+1)*64])+string(rune('0'+s.Label(i)))]--
		}
	}
	for k, v := range seen {
		require.Zero(t, v, "image %q is in train+test %d times more or less than in the set", k, v)
	}

	// --digits 0,1: the tutorial's 360 images, 288 to train and 72 to test.
	sub, err := sp.Subset([]int{0, 1})
	require.NoError(t, err)
	assert.Equal(t, []int{142, 146}, sub.Train.ClassCounts())
	assert.Equal(t, []int{36, 36}, sub.Test.ClassCounts())
	assert.Equal(t, 16, sub.Train.PixelMax, "a subset keeps the pixel scale")
}

func TestParseDigitsErrors(t *testing.T) {
	tests := []struct{ name, csv, want string }{
		{"short line", "1,2,3\n", "line 1: 3 values"},
		{"big pixel", "17" + strings.Repeat(",0", 63) + ",1\n", `line 1, column 1: "17"`},
		{"bad label", "0" + strings.Repeat(",0", 63) + ",10\n", `column 65: "10"`},
		{"fraction", "0.5" + strings.Repeat(",0", 63) + ",1\n", `"0.5" is not an integer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseDigits(gz(t, []byte(tt.csv)), "x.csv.gz")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "x.csv.gz")
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := parseDigits([]byte("not gzip"), "x.csv.gz")
	assert.ErrorContains(t, err, "corrupt gzip")
}
