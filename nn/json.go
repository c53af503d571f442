package nn

import (
	"encoding/json"
	"math"
)

// MarshalJSON writes the stats with Go's field names, and every figure that
// does not exist as null: an Accuracy of NaN (a regression model has none)
// and ValLoss and ValAccuracy of NaN (no validation set). JSON has no NaN.
func (s EpochStats) MarshalJSON() ([]byte, error) {
	type plain EpochStats // the same fields, without this method
	null := func(v float64) *float64 {
		if math.IsNaN(v) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		plain
		Accuracy    *float64
		ValLoss     *float64
		ValAccuracy *float64
	}{plain(s), null(s.Accuracy), null(s.ValLoss), null(s.ValAccuracy)})
}
