package philox

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The known answers of Random123's kat_vectors file, the "philox4x32 10"
// lines: counter (4 words), key (2 words), expected output (4 words).
func TestBlockKnownAnswers(t *testing.T) {
	cases := []struct {
		name string
		ctr  [4]uint32
		key  [2]uint32
		want [4]uint32
	}{
		{"zeros", [4]uint32{}, [2]uint32{}, [4]uint32{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
		{"ones", [4]uint32{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, [2]uint32{0xffffffff, 0xffffffff},
			[4]uint32{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
		{"pi", [4]uint32{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, [2]uint32{0xa4093822, 0x299f31d0},
			[4]uint32{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, Block(c.ctr, c.key))
		})
	}
}

func TestThreshold(t *testing.T) {
	cases := []struct {
		p    float64
		want uint32
	}{
		{0, 0}, {0.5, 1 << 31}, {0.25, 1 << 30}, {math.Nextafter(1, 0), 0xffffffff},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Threshold(c.p), "p=%v", c.p)
	}
	for _, p := range []float64{-0.1, 1, math.NaN()} {
		assert.Panics(t, func() { Threshold(p) }, "p=%v", p)
	}
}

// TestKeepRate checks that the kept fraction is 1−p within five standard
// deviations of a binomial, and that every key word changes the mask.
func TestKeepRate(t *testing.T) {
	const n = 200000
	for _, p := range []float64{0.1, 0.5, 0.9} {
		th := Threshold(p)
		kept := 0
		for e := uint32(0); e < n; e++ {
			if Keep(42, 7, 1, 0, e, th) {
				kept++
			}
		}
		sd := math.Sqrt(n * p * (1 - p))
		assert.InDelta(t, n*(1-p), float64(kept), 5*sd, "p=%v", p)
	}
	base := Draw(1, 2, 3, 4, 5)
	for name, d := range map[string]uint32{
		"seed low": Draw(2, 2, 3, 4, 5), "seed high": Draw(1|1<<32, 2, 3, 4, 5), "step": Draw(1, 3, 3, 4, 5),
		"layer": Draw(1, 2, 4, 4, 5), "model": Draw(1, 2, 3, 5, 5), "element": Draw(1, 2, 3, 4, 6),
	} {
		assert.NotEqual(t, base, d, name)
	}
	assert.True(t, Keep(1, 2, 3, 4, 5, 0), "threshold 0 keeps everything")
}
