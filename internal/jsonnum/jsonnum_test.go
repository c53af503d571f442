package jsonnum

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNum(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{1.5, "1.5"},
		{0, "0"},
		{-2e-300, "-2e-300"},
		{math.NaN(), "null"},
		{math.Inf(1), "null"},
		{math.Inf(-1), "null"},
	}
	for _, tt := range tests {
		b, err := json.Marshal(struct{ X Num }{Num(tt.v)})
		require.NoError(t, err)
		assert.Equal(t, `{"X":`+tt.want+`}`, string(b), "%v", tt.v)
		var back struct{ X Num }
		require.NoError(t, json.Unmarshal(b, &back))
		if Finite(tt.v) {
			assert.Equal(t, tt.v, float64(back.X))
		} else {
			assert.True(t, math.IsNaN(float64(back.X)), "null reads as NaN")
		}
		p := Ptr(tt.v)
		assert.Equal(t, Finite(tt.v), p != nil)
		if p != nil {
			assert.Equal(t, tt.v, *p)
		}
	}
	var n Num
	assert.Error(t, json.Unmarshal([]byte(`"x"`), &n))
}
