package usercache

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFile(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/cache")
	t.Setenv("HOME", "/home/u")
	const env = "GPUTRAIN_TEST_USERCACHE"
	tests := []struct {
		name, value string
		set         bool
		want        string
	}{
		{"default", "", false, filepath.Join("/cache", "gputrain", "x.json")},
		{"moved", "/tmp/y.json", true, "/tmp/y.json"},
		{"off", "off", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.set {
				t.Setenv(env, tt.value)
			}
			assert.Equal(t, tt.want, File(env, "x.json"))
		})
	}
}
