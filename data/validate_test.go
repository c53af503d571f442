package data

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestValidate: one validator for every set, loaded or built by hand: a
// set without Outputs has one target per row, a set without Labels is one
// to predict, and every broken field is named.
func TestValidate(t *testing.T) {
	and := func() *Set { // nn's ExampleTrain builds this one by hand
		return &Set{Name: "and", Rows: 4, Cols: 2, Classes: 2,
			Features: []float64{0, 0, 0, 1, 1, 0, 1, 1}, Labels: []float64{0, 0, 0, 1}}
	}
	for _, tt := range []struct {
		name string
		edit func(s *Set)
		want string // "" for valid
	}{
		{"hand-built classifier, outputs 0", func(*Set) {}, ""},
		{"outputs 1", func(s *Set) { s.Outputs = 1 }, ""},
		{"no labels: a set to predict", func(s *Set) { s.Labels = nil }, ""},
		{"regression, outputs 0", func(s *Set) { s.Classes, s.Labels = 0, []float64{1.5, -2, 3, 4} }, ""},
		{"two targets per row", func(s *Set) { s.Classes, s.Outputs, s.Labels = 0, 2, make([]float64, 8) }, ""},
		{"negative outputs", func(s *Set) { s.Outputs = -1 }, "data: and: shape: rows 4, cols 2, outputs -1"},
		{"short labels", func(s *Set) { s.Labels = s.Labels[:3] }, "data: and: labels: len 3, want rows*outputs = 4"},
		{"short features", func(s *Set) { s.Features = s.Features[:6] }, "data: and: features: len 6, want rows*cols = 8"},
		{"both kinds of features", func(s *Set) { s.Pixels = make([]byte, 8) }, "exactly one of Pixels and Features"},
		{"class out of range", func(s *Set) { s.Labels[2] = 2 }, "data: and: labels: label 2 at row 2 out of range 0..1"},
		{"fractional class", func(s *Set) { s.Labels[1] = 0.5 }, "label 0.5 at row 1 out of range"},
		{"NaN target", func(s *Set) { s.Classes, s.Labels[3] = 0, math.NaN() }, "data: and: labels: target 0 of row 3 is NaN, want a finite number"},
		{"infinite class", func(s *Set) { s.Labels[0] = math.Inf(1) }, "target 0 of row 0 is +Inf"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := and()
			tt.edit(s)
			err := s.Validate()
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.want)
		})
	}
}
