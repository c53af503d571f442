package data

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/internal/shareddata"
)

// The real data sets live outside the project (see internal/shareddata);
// these tests skip when they are absent.

func TestRealMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 55 MB of IDX data")
	}
	sp, err := LoadIDX(shareddata.Path(t, "mnist"))
	require.NoError(t, err)
	assert.Equal(t, 60000, sp.Train.Rows)
	assert.Equal(t, 10000, sp.Test.Rows)
	assert.Equal(t, 784, sp.Train.Cols)
	assert.Equal(t, 28, sp.Train.Width)
	assert.Equal(t, []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}, sp.Train.ClassCounts())
	assert.Equal(t, []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}, sp.Test.ClassCounts())

	bin, err := sp.Subset([]int{0, 1})
	require.NoError(t, err)
	assert.Equal(t, 12665, bin.Train.Rows)
	assert.Equal(t, 2115, bin.Test.Rows)
	assert.Equal(t, []int{5923, 6742}, bin.Train.ClassCounts())
	assert.Equal(t, []int{980, 1135}, bin.Test.ClassCounts())
}

func TestRealFashionMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 30 MB of gzip data")
	}
	sp, err := LoadIDX(shareddata.Path(t, "fashion-mnist"))
	require.NoError(t, err)
	assert.Equal(t, 60000, sp.Train.Rows)
	assert.Equal(t, 10000, sp.Test.Rows)
	for _, n := range sp.Train.ClassCounts() {
		assert.Equal(t, 6000, n)
	}
	for _, n := range sp.Test.ClassCounts() {
		assert.Equal(t, 1000, n)
	}
	assert.Equal(t, "Ankle boot", sp.Train.ClassNames[9])
}
