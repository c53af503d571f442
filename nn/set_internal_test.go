package nn

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/data"
)

// TestColStats: colStats gives each column's mean and population standard
// deviation (divided by rows), and 1 for a column whose deviation is zero
// or not finite.
func TestColStats(t *testing.T) {
	for _, c := range []struct {
		name       string
		x          []float64
		rows, cols int
		mean, std  []float64
	}{
		{"three columns, the middle constant", []float64{
			1, 5, 10,
			3, 5, 20,
			5, 5, 30,
		}, 3, 3, []float64{3, 5, 20}, []float64{math.Sqrt(8.0 / 3), 1, math.Sqrt(200.0 / 3)}},
		{"one row", []float64{7, -2}, 1, 2, []float64{7, -2}, []float64{1, 1}},
		{"two rows", []float64{1, 2, 3, 6}, 2, 2, []float64{2, 4}, []float64{1, 2}},
		{"an infinite value", []float64{1, math.Inf(1), 2, 0}, 2, 2, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			mean, std, err := colStats(c.x, c.rows, c.cols)
			if c.mean == nil {
				var se *spreadError
				require.ErrorAs(t, err, &se, "a spread past float64 is an error, not a scale of 1")
				assert.Equal(t, 1, se.col)
				return
			}
			require.NoError(t, err)
			for j := range c.cols {
				if math.IsInf(c.mean[j], 0) {
					assert.Equal(t, c.mean[j], mean[j])
				} else {
					assert.InDelta(t, c.mean[j], mean[j], 1e-12, "mean %d", j)
				}
				assert.InDelta(t, c.std[j], std[j], 1e-12, "std %d", j)
			}
		})
	}
}

// TestFitScalingFigures: features of a float set and the target of a
// regression set are scaled by their means and population deviations; the
// scaled training columns then have mean 0 and unit deviation (a constant
// column maps to 0); a pixel set and a classifier's labels get none.
func TestFitScalingFigures(t *testing.T) {
	s := &Set{Name: "d", Rows: 3, Cols: 2, Outputs: 1,
		Features: []float64{1, 5, 2, 5, 3, 5}, Labels: []float64{10, 20, 30}}
	sc, err := FitScaling(s, Spec{Inputs: 2, Outputs: 1, Head: RegressionHead})
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float64{2, 5}, sc.FeatureMean, 1e-12)
	assert.InDeltaSlice(t, []float64{0.816496580927726, 1}, sc.FeatureStd, 1e-12) // constant column: 1
	assert.InDeltaSlice(t, []float64{20}, sc.TargetMean, 1e-12)
	assert.InDeltaSlice(t, []float64{8.16496580927726}, sc.TargetStd, 1e-12)
	for i, v := range s.Features {
		j := i % 2
		z := (v - sc.FeatureMean[j]) / sc.FeatureStd[j]
		assert.InDelta(t, []float64{-1.224744871391589, 0, 0, 0, 1.224744871391589, 0}[i], z, 1e-12)
	}

	s.Labels = []float64{0, 1, 1}
	sc, err = FitScaling(s, Spec{Inputs: 2, Outputs: 1, Head: BinaryHead})
	require.NoError(t, err)
	assert.True(t, sc.HasFeatures())
	assert.False(t, sc.HasTargets(), "a classifier's labels are not scaled")

	img := data.Synthetic(10, 10, 1).Train
	sc, err = FitScaling(img, Spec{Inputs: img.Cols, Outputs: 10, Head: SoftmaxHead})
	require.NoError(t, err)
	assert.False(t, sc.HasFeatures(), "pixels are scaled by PixelScale, not standardised")

	_, err = FitScaling(s, Spec{Inputs: 3, Outputs: 1, Head: BinaryHead})
	assert.ErrorContains(t, err, "has 2 features per row")
}

// TestFitScalingOverflow: a column whose spread overflows float64 is an
// error naming it and its largest value, not a scale silently set to 1.
func TestFitScalingOverflow(t *testing.T) {
	tests := []struct {
		name     string
		features []float64
		labels   []float64
		want     string
	}{
		{"feature", []float64{1, 1e160, 2, 3, 3, 4}, []float64{1, 2, 3}, `nn: d: feature 1 ("b"): its standard deviation overflows the float64 range (its largest magnitude is 1e+160)`},
		{"target", []float64{1, 2, 2, 3, 3, 4}, []float64{1, -1e200, 3}, `nn: d: target 0 ("y"): its standard deviation overflows`},
		{"opposite extremes", []float64{1e308, 2, -1e308, 3, 3, 4}, []float64{1, 2, 3}, `feature 0 ("a")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Set{Name: "d", Rows: 3, Cols: 2, Outputs: 1, Features: tt.features, Labels: tt.labels,
				FeatureNames: []string{"a", "b"}, TargetNames: []string{"y"}}
			_, err := FitScaling(s, Spec{Inputs: 2, Outputs: 1, Head: RegressionHead})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
