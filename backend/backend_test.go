package backend_test

import (
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/stretchr/testify/assert"
)

func TestPack(t *testing.T) {
	tests := []struct {
		counts  []int
		offsets []int
		total   int
	}{
		{nil, []int{}, 0},
		{[]int{1}, []int{0}, 64},
		{[]int{64, 1, 65}, []int{0, 64, 128}, 256},
		{[]int{20 * 16, 16, 16 * 8, 8}, []int{0, 320, 384, 512}, 576},
	}
	for _, tt := range tests {
		offsets, total := backend.Pack(tt.counts...)
		assert.Equal(t, tt.offsets, offsets, "%v", tt.counts)
		assert.Equal(t, tt.total, total, "%v", tt.counts)
		for _, o := range offsets {
			assert.Zero(t, o%backend.SliceAlign)
		}
	}
	assert.PanicsWithValue(t, "Pack: tensor 1 has 0 elements", func() { backend.Pack(3, 0) })
}
