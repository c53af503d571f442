package enum_test

import (
	"testing"

	"github.com/gputrain/gputrain/internal/enum"
	"github.com/stretchr/testify/assert"
)

type color uint8

const (
	red color = iota
	green
	blue
)

var colorNames = enum.Names[color]{red: "red", green: "green", blue: "blue"}

type policy int

var policyNames = enum.Names[policy]{"error", "drop"}

func TestNames(t *testing.T) {
	tests := []struct {
		v     color
		name  string
		valid bool
	}{
		{red, "red", true},
		{blue, "blue", true},
		{3, "color(3)", false},
		{255, "color(255)", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.name, colorNames.String(tt.v, "color"))
		assert.Equal(t, tt.valid, colorNames.Valid(tt.v), "%d", tt.v)
		if tt.valid {
			v, ok := colorNames.Parse(tt.name)
			assert.True(t, ok, tt.name)
			assert.Equal(t, tt.v, v, tt.name)
		}
	}
	v, ok := colorNames.Parse("GrEeN")
	assert.True(t, ok)
	assert.Equal(t, green, v)
	for _, s := range []string{"", "purple", " red", "color(3)"} {
		_, ok := colorNames.Parse(s)
		assert.False(t, ok, "%q", s)
	}
	assert.Equal(t, "red, green, blue", colorNames.List())

	assert.Equal(t, "policy(-1)", policyNames.String(-1, "policy"))
	assert.False(t, policyNames.Valid(-1))
	assert.Equal(t, "drop", policyNames.String(1, "policy"))
}
