package nn

import (
	"encoding/json"
	"math"
)

// MarshalJSON writes the stats with Go's field names, an Accuracy of NaN
// (a regression model has none) as null: JSON has no NaN.
func (s EpochStats) MarshalJSON() ([]byte, error) {
	type plain EpochStats // the same fields, without this method
	var acc *float64
	if !math.IsNaN(s.Accuracy) {
		acc = &s.Accuracy
	}
	return json.Marshal(struct {
		plain
		Accuracy *float64
	}{plain(s), acc})
}
