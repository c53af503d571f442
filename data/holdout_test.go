package data

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHoldOutStratified(t *testing.T) {
	all, err := DigitsSet()
	require.NoError(t, err)
	kept, held, err := all.HoldOut(0.1, 7)
	require.NoError(t, err)
	assert.Equal(t, all.Name, kept.Name)
	assert.Equal(t, all.Name+" (held out)", held.Name)
	assert.Equal(t, all.Rows, kept.Rows+held.Rows)
	for c, n := range held.ClassCounts() {
		want := int(float64(digitsClassCounts[c])*0.1 + 0.5)
		assert.Equal(t, want, n, "class %d: round(0.1·%d)", c, digitsClassCounts[c])
	}
	// Another seed picks other rows in the same proportions.
	_, held2, err := all.HoldOut(0.1, 8)
	require.NoError(t, err)
	assert.Equal(t, held.ClassCounts(), held2.ClassCounts())
	assert.NotEqual(t, held.Pixels, held2.Pixels)
	// The same seed, the same rows.
	_, held3, err := all.HoldOut(0.1, 7)
	require.NoError(t, err)
	assert.Equal(t, held.Pixels, held3.Pixels)
}

func TestHoldOutNumeric(t *testing.T) {
	s := &Set{Name: "t.csv", Rows: 10, Cols: 2, Outputs: 1, FeatureNames: []string{"a", "b"}, TargetNames: []string{"y"}}
	for i := range s.Rows {
		s.Features = append(s.Features, float64(i), float64(-i))
		s.Labels = append(s.Labels, float64(10*i))
	}
	kept, held, err := s.HoldOut(0.3, 1)
	require.NoError(t, err)
	assert.Equal(t, 7, kept.Rows)
	assert.Equal(t, 3, held.Rows)
	require.NoError(t, kept.Validate())
	require.NoError(t, held.Validate())
	// Rows stay whole and in order; together they are the set.
	seen := map[float64]bool{}
	for _, p := range []*Set{kept, held} {
		assert.Equal(t, []string{"a", "b"}, p.FeatureNames)
		for i := range p.Rows {
			x := p.Features[2*i]
			assert.Equal(t, -x, p.Features[2*i+1])
			assert.Equal(t, 10*x, p.Labels[i])
			if i > 0 {
				assert.Less(t, p.Features[2*(i-1)], x, "row order of the set is kept")
			}
			seen[x] = true
		}
	}
	assert.Len(t, seen, 10)
}

func TestHoldOutErrors(t *testing.T) {
	s := &Set{Name: "tiny", Rows: 2, Cols: 1, Outputs: 1, Features: []float64{1, 2}, Labels: []float64{0, 1}, Classes: 2}
	for _, f := range []float64{0, 1, -0.5, 1.5} {
		_, _, err := s.HoldOut(f, 1)
		assert.ErrorContains(t, err, "between 0 and 1", "fraction %v", f)
	}
	// One row per class: none can be held out without emptying its class.
	_, _, err := s.HoldOut(0.5, 1)
	assert.ErrorContains(t, err, "0 held out")
}

func TestTake(t *testing.T) {
	s := &Set{Name: "img", Rows: 3, Cols: 2, Width: 2, Height: 1, PixelMax: 16, Pixels: []byte{1, 2, 3, 4, 5, 6},
		Outputs: 1, Labels: []float64{0, 1, 0}, Classes: 2, ClassNames: []string{"no", "yes"}}
	got := s.Take([]int{2, 0, 2}, "picked")
	assert.Equal(t, "picked", got.Name)
	assert.Equal(t, 3, got.Rows)
	assert.Equal(t, []byte{5, 6, 1, 2, 5, 6}, got.Pixels)
	assert.Equal(t, []float64{0, 0, 0}, got.Labels)
	assert.Equal(t, 16, got.PixelMax)
	assert.Equal(t, []string{"no", "yes"}, got.ClassNames)
	got.Pixels[0] = 99
	assert.Equal(t, byte(1), s.Pixels[0], "no shared memory")
	assert.Panics(t, func() { s.Take([]int{3}, "x") })
}

func TestValidatePixelMax(t *testing.T) {
	s := &Set{Name: "img", Rows: 1, Cols: 2, PixelMax: 16, Pixels: []byte{16, 17}, Outputs: 1, Labels: []float64{0}, Classes: 1}
	assert.ErrorContains(t, s.Validate(), "pixel 1 of row 0 is 17, more than the pixel max 16")
	s.Pixels[1] = 3
	assert.NoError(t, s.Validate())
	s.PixelMax = 300
	assert.ErrorContains(t, s.Validate(), "pixel max")
}
