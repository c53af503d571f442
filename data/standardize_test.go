package data

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStandardizeFunc(t *testing.T) {
	v := []float64{
		1, 5, 10,
		3, 5, 20,
		5, 5, 30,
	}
	mean, std := Standardize(v, 3, 3)
	assert.Equal(t, []float64{3, 5, 20}, mean)
	assert.InDelta(t, math.Sqrt(8.0/3), std[0], 1e-12)
	assert.Equal(t, 1.0, std[1], "constant column gets std 1")
	assert.InDelta(t, math.Sqrt(200.0/3), std[2], 1e-12)
	for j := range 3 {
		sum, sq := 0.0, 0.0
		for i := range 3 {
			sum += v[i*3+j]
			sq += v[i*3+j] * v[i*3+j]
		}
		assert.InDelta(t, 0, sum, 1e-12)
		if j != 1 {
			assert.InDelta(t, 3, sq, 1e-12)
		}
	}
	assert.Equal(t, []float64{0, 0, 0}, []float64{v[1], v[4], v[7]})

	m, s := Standardize(nil, 0, 2)
	assert.Equal(t, []float64{0, 0}, m)
	assert.Equal(t, []float64{1, 1}, s)
	assert.Panics(t, func() { Standardize([]float64{1, 2, 3}, 2, 2) })
}
