package nn

import (
	"encoding/json"

	"github.com/gputrain/gputrain/internal/jsonnum"
)

// MarshalJSON writes the stats with Go's field names, and every figure that
// does not exist or is not finite as null (jsonnum): an Accuracy of NaN (a
// regression model has none), ValLoss and ValAccuracy of NaN (no
// validation set), a Loss or a rate that overflowed.
func (s EpochStats) MarshalJSON() ([]byte, error) {
	type plain EpochStats // the same fields, without this method
	null := jsonnum.Ptr
	return json.Marshal(struct {
		plain
		Loss          *float64
		Accuracy      *float64
		ValLoss       *float64
		ValAccuracy   *float64
		SamplesPerSec *float64
	}{plain(s), null(s.Loss), null(s.Accuracy), null(s.ValLoss), null(s.ValAccuracy), null(s.SamplesPerSec)})
}
