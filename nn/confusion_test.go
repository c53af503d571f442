package nn_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/nn"
)

func TestConfusion(t *testing.T) {
	// Class 0: 3 rows, 2 right; class 1: 1 row, right; class 2: none.
	c, err := nn.Confusion(3, []float64{0, 0, 0, 1}, []int{0, 1, 0, 1})
	require.NoError(t, err)
	assert.Equal(t, nn.ConfusionMatrix{{2, 1, 0}, {0, 1, 0}, {0, 0, 0}}, c)
	r := c.Recall()
	assert.InDelta(t, 2.0/3, r[0], 1e-15)
	assert.Equal(t, 1.0, r[1])
	assert.True(t, math.IsNaN(r[2]), "a class with no rows")
	assert.InDelta(t, (2.0/3+1)/2, c.BalancedAccuracy(), 1e-15)

	for _, tt := range []struct {
		labels []float64
		pred   []int
		want   string
	}{
		{[]float64{0}, []int{0, 1}, "1 labels and 2 predictions"},
		{[]float64{3}, []int{0}, "label 3"},
		{[]float64{0.5}, []int{0}, "label 0.5"},
		{[]float64{0}, []int{-1}, "prediction -1"},
	} {
		_, err := nn.Confusion(3, tt.labels, tt.pred)
		assert.ErrorContains(t, err, tt.want)
	}
	empty, err := nn.Confusion(2, nil, nil)
	require.NoError(t, err)
	assert.True(t, math.IsNaN(empty.BalancedAccuracy()))
}
