package data

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSyntheticShape(t *testing.T) {
	sp := Synthetic(500, 100, 7)
	assert.True(t, sp.Synthetic)
	for _, s := range []*Set{sp.Train, sp.Test} {
		require.NoError(t, s.Validate())
		assert.True(t, strings.HasPrefix(s.Name, "synthetic"), s.Name)
		assert.Equal(t, 784, s.Cols)
		assert.Equal(t, 28, s.Width)
		assert.Equal(t, 28, s.Height)
		assert.Equal(t, 10, s.Classes)
		assert.Nil(t, s.Features)
		for c, n := range s.ClassCounts() {
			assert.Greater(t, n, s.Rows/30, "class %d has %d samples", c, n)
		}
	}
	assert.Equal(t, 500, sp.Train.Rows)
	assert.Equal(t, 100, sp.Test.Rows)
	assert.NotEqual(t, sp.Train.Pixels[:784*100], sp.Test.Pixels[:784*100])

	empty := Synthetic(0, 0, 1)
	assert.Equal(t, 0, empty.Train.Rows)
}

func TestSyntheticDeterministic(t *testing.T) {
	a := Synthetic(300, 50, 42)
	b := Synthetic(300, 50, 42)
	assert.Equal(t, a.Train.Pixels, b.Train.Pixels)
	assert.Equal(t, a.Test.Labels, b.Test.Labels)
	c := Synthetic(300, 50, 43)
	assert.NotEqual(t, a.Train.Pixels, c.Train.Pixels)
	// The first samples do not depend on how many are drawn.
	d := Synthetic(100, 10, 42)
	assert.Equal(t, a.Train.Pixels[:100*784], d.Train.Pixels)
}

func TestSyntheticFast(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	start := time.Now()
	Synthetic(DefaultSyntheticTrain, DefaultSyntheticTest, 1)
	el := time.Since(start)
	t.Logf("generated %d+%d images in %v", DefaultSyntheticTrain, DefaultSyntheticTest, el)
	// About 0.3 s on an idle 2-core machine; slack for loaded CI runners.
	assert.Less(t, el, 5*time.Second)
}

// TestSyntheticLearnable checks the data is learnable but not trivial: a
// nearest-class-mean classifier, far weaker than an MLP, is well above
// chance (10%) and well below perfect.
func TestSyntheticLearnable(t *testing.T) {
	sp := Synthetic(3000, 1000, 3)
	tr := sp.Train
	mean := make([][]float64, 10)
	cnt := make([]float64, 10)
	for c := range mean {
		mean[c] = make([]float64, tr.Cols)
	}
	for i := range tr.Rows {
		l := tr.Label(i)
		cnt[l]++
		for j, p := range tr.Pixels[i*tr.Cols : (i+1)*tr.Cols] {
			mean[l][j] += float64(p)
		}
	}
	for c := range mean {
		for j := range mean[c] {
			mean[c][j] /= cnt[c]
		}
	}
	te := sp.Test
	correct := 0
	for i := range te.Rows {
		best, bestD := -1, 0.0
		for c := range mean {
			d := 0.0
			for j, p := range te.Pixels[i*te.Cols : (i+1)*te.Cols] {
				e := float64(p) - mean[c][j]
				d += e * e
			}
			if best < 0 || d < bestD {
				best, bestD = c, d
			}
		}
		if best == te.Label(i) {
			correct++
		}
	}
	acc := float64(correct) / float64(te.Rows)
	t.Logf("nearest-mean accuracy %.3f", acc)
	assert.Greater(t, acc, 0.4)
	assert.Less(t, acc, 0.97)
}

func BenchmarkSynthetic(b *testing.B) {
	for b.Loop() {
		Synthetic(DefaultSyntheticTrain, DefaultSyntheticTest, 1)
	}
}
