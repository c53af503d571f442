// Package philox is the Philox4x32-10 counter-based random number generator
// (Salmon, Moraes, Dror and Shaw, "Parallel Random Numbers: As Easy as 1,
// 2, 3", SC11), and the dropout mask gputrain draws from it.
//
// A counter-based generator is a pure function of a 128-bit counter and a
// 64-bit key, so any element's draw can be computed on its own, in any
// order, on any device. shaders/_philox.wgsl implements the same function
// in WGSL with the same integer arithmetic, so the GPU and the CPU
// reference draw identical dropout masks.
package philox

import "math/bits"

// The Philox4x32 multipliers and Weyl key increments.
const (
	m0, m1 = 0xD2511F53, 0xCD9E8D57
	w0, w1 = 0x9E3779B9, 0xBB67AE85
)

// Rounds is the number of rounds of Philox4x32-10.
const Rounds = 10

// Block returns Philox4x32-10 of counter ctr under key key: four
// uniformly distributed 32-bit words.
func Block(ctr [4]uint32, key [2]uint32) [4]uint32 {
	x0, x1, x2, x3 := ctr[0], ctr[1], ctr[2], ctr[3]
	k0, k1 := key[0], key[1]
	for r := 0; r < Rounds; r++ {
		if r > 0 {
			k0 += w0
			k1 += w1
		}
		hi0, lo0 := bits.Mul32(m0, x0)
		hi1, lo1 := bits.Mul32(m1, x2)
		x0, x1, x2, x3 = hi1^x1^k0, lo1, hi0^x3^k1, lo0
	}
	return [4]uint32{x0, x1, x2, x3}
}

// Threshold is the dropout threshold of drop probability p: an element is
// kept when its draw is at least Threshold(p), so it is dropped with
// probability Threshold(p)/2³², which is p rounded down to a multiple of
// 2⁻³². Both sides of a parity check use this one value (the GPU receives
// it as an integer), so no floating-point rounding can differ. It panics
// unless 0 ≤ p < 1.
func Threshold(p float64) uint32 {
	if !(p >= 0 && p < 1) {
		panic("philox: dropout probability outside [0, 1)")
	}
	return uint32(p * (1 << 32))
}

// Draw is the 32-bit draw of one element of a dropout mask: the first word
// of Block((element, step, layer, model), (seed low, seed high)).
func Draw(seed uint64, step, layer, model, element uint32) uint32 {
	return Block([4]uint32{element, step, layer, model}, [2]uint32{uint32(seed), uint32(seed >> 32)})[0]
}

// Keep reports whether the element is kept (not dropped) by a dropout of
// threshold t (see Threshold): Draw(…) ≥ t. With t = 0 every element is
// kept.
func Keep(seed uint64, step, layer, model, element, t uint32) bool {
	return t == 0 || Draw(seed, step, layer, model, element) >= t
}
