package table

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/internal/shareddata"
)

func TestRealHousing(t *testing.T) {
	path := filepath.Join(shareddata.Path(t, "housing"), "train.csv")
	set, rep, err := LoadCSV(path, []string{"LotArea"}, "SalePrice", NAError)
	require.NoError(t, err)
	assert.Equal(t, 1460, set.Rows)
	assert.Equal(t, 1460, rep.Rows)
	assert.Equal(t, 0, rep.Dropped)
	lo, hi := set.Features[0], set.Features[0]
	for _, v := range set.Features {
		lo, hi = min(lo, v), max(hi, v)
	}
	assert.Equal(t, []float64{1300, 215245}, []float64{lo, hi})
	lo, hi = set.Labels[0], set.Labels[0]
	for _, v := range set.Labels {
		lo, hi = min(lo, v), max(hi, v)
	}
	assert.Equal(t, []float64{34900, 755000}, []float64{lo, hi})

	// LotFrontage has NA cells: an error by default, dropped on request.
	_, _, err = LoadCSV(path, []string{"LotFrontage"}, "SalePrice", NAError)
	require.ErrorContains(t, err, `column "LotFrontage": "NA" is missing`)
	set, rep, err = LoadCSV(path, []string{"LotFrontage", "LotArea"}, "SalePrice", NADrop)
	require.NoError(t, err)
	assert.Positive(t, rep.Dropped)
	assert.Equal(t, 1460, set.Rows+rep.Dropped)
}
