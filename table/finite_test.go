package table

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSpreadOverflow: a number column (feature or regression target) whose
// standard deviation over the training rows overflows float64 is an error
// naming the file, the line, the column and the value, not a column
// silently scaled by 1; large values whose spread fits are kept.
func TestSpreadOverflow(t *testing.T) {
	tests := []struct {
		name, content string
		task          Task
		want          string // "" for no error
	}{
		{"feature", "a,b,y\n1,x,0\n2,y,1\n1e160,x,0\n3,y,1\n", TaskAuto, `line 4, column "a": 1e160 is too far from the column's other values`},
		{"negative feature", "a,b,y\n1,x,0\n-2e200,y,1\n1,x,0\n3,y,1\n", TaskAuto, `line 3, column "a": -2e200 is too far`},
		{"target", "a,y\n1,1\n2,2\n3,1e170\n4,3\n", TaskRegress, `line 4, column "y": 1e170 is too far`},
		{"opposite extremes", "a,y\n1e308,1\n-1e308,2\n3,1\n4,3\n", TaskRegress, `line 2, column "a": 1e308 is too far`},
		{"large but fine", "a,y\n1e150,1\n2e150,2\n3e150,1\n4e150,3\n", TaskRegress, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			train := table(t, "spread.csv", tt.content)
			test := table(t, "test.csv", tt.content)
			enc, _, _, err := Fit(train, test, Options{Target: "y", Task: tt.task})
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Nil(t, enc)
			assert.Contains(t, err.Error(), "data: "+train.Path+": "+tt.want)
			assert.Contains(t, err.Error(), "cannot be standardised")
		})
	}
}
