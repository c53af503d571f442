// Package jsonnum is gputrain's one rule for figures that may be missing
// or not finite in JSON: JSON has no NaN or infinity, so such a figure is
// written as null (an accuracy of a regression model, a validation loss
// without a validation set, a loss that overflowed), and null reads back
// as NaN.
package jsonnum

import (
	"encoding/json"
	"math"
)

// Num is a float64 that is written as null when it is NaN or infinite,
// and read as NaN from null.
type Num float64

// MarshalJSON writes n, or null for NaN and infinities.
func (n Num) MarshalJSON() ([]byte, error) {
	v := float64(n)
	if !Finite(v) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads a number, or null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = Num(v)
	return nil
}

// Ptr is nil for NaN or an infinity, else a pointer to v: for a field of
// type *float64 that is null where the figure is missing.
func Ptr(v float64) *float64 {
	if !Finite(v) {
		return nil
	}
	return &v
}

// Finite reports whether v is neither NaN nor an infinity.
func Finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
