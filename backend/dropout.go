package backend

import (
	"fmt"

	"github.com/gputrain/gputrain/internal/philox"
)

// Dropout is an inverted dropout fused into a forward operation
// (MatMulBiasActivate, GatherMatMulBiasActivate) and its backward
// (MatMulActivationGrad). The zero value is no dropout.
//
// Element e (row·n + col of the m×n output) of model k of the output is
// kept when philox.Keep(Seed+Model+k, uint32(Step), uint32(Layer), 0, e,
// Threshold()) says so (Model+k taken modulo 2³² and added to the 64-bit
// seed), and kept values are multiplied by Scale(): the mask is a pure
// function of the seed, the step, the layer and the element
// (Philox4x32-10, the same integer arithmetic on every backend), so the
// GPU and the reference drop exactly the same elements, and the backward
// operation draws the forward's mask again instead of storing it. Model k
// of an array draws the mask of a lone model whose Seed is Seed+Model+k:
// an array whose members' seeds are consecutive draws, member for member,
// the masks of those members trained alone.
type Dropout struct {
	// P is the probability that an element is dropped, 0 ≤ P < 1; 0 is no
	// dropout.
	P float64
	// Seed keys the generator.
	Seed uint64
	// Step and Layer select the mask: a training step's number and the
	// layer's index, so that every step and every layer draws its own.
	// Step is taken modulo 2³²; Layer must be at least 0.
	Step, Layer int
	// Model is added to the seed of model 0 of the output; model k adds
	// Model+k (modulo 2³²). 0 for a lone model.
	Model int
}

// On reports whether d drops anything: P is not 0 and its threshold is
// not 0 (a P below 2⁻³² drops nothing, and its values are not scaled
// either, on every backend).
func (d Dropout) On() bool { return d.P != 0 && !(d.P > 0 && d.P < 0x1p-32) }

// Threshold is the integer threshold of P (philox.Threshold): an element
// whose draw is below it is dropped. The GPU receives this integer, so
// the backends compare the same numbers.
func (d Dropout) Threshold() uint32 { return philox.Threshold(d.P) }

// Scale is 1/(1−P), the factor of the kept values (inverted dropout: the
// expected output equals the undropped one, so evaluation needs no
// rescaling).
func (d Dropout) Scale() float64 { return 1 / (1 - d.P) }

// Keep reports whether element e of model k of the output is kept. It is
// philox.Keep with d's words; use it with a Threshold computed once.
func (d Dropout) Keep(threshold uint32, k, e int) bool {
	return philox.Keep(d.Seed+uint64(uint32(d.Model+k)), uint32(d.Step), uint32(d.Layer), 0, uint32(e), threshold)
}

// CheckDropout panics with a message naming op unless d is valid: 0 ≤ P < 1
// and Layer ≥ 0.
func CheckDropout(op string, d Dropout) {
	if !(d.P >= 0 && d.P < 1) {
		panic(fmt.Sprintf("%s: dropout probability %v outside [0, 1)", op, d.P))
	}
	if d.Layer < 0 || int64(d.Layer) > 1<<32-1 {
		panic(fmt.Sprintf("%s: dropout layer %d outside [0, 2³²)", op, d.Layer))
	}
}
