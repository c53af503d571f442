//go:build amd64 && !purego

package cpuref

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gputrain/gputrain/backend"
)

// vectorAgree runs an optimizer update (update, on tensors holding state,
// w first, and hyperparameters hp) once with the AVX2 loops and once with
// the Go loops, and fails unless every tensor ends with the same bits.
func vectorAgree(t *testing.T, what string, state [][]float64, hp []float64, update func(b *Backend, ts []backend.Tensor, hp backend.Tensor)) {
	t.Helper()
	var out [2][][]float64
	for x, vec := range []bool{true, false} {
		b := New()
		ts := make([]backend.Tensor, len(state))
		for q, src := range state {
			tt, err := b.New(1, len(src), backend.Float)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.WriteFloats(tt, src); err != nil {
				t.Fatal(err)
			}
			ts[q] = tt
		}
		h, err := backend.NewHP(b, 1, hp)
		if err != nil {
			t.Fatal(err)
		}
		func() {
			defer func(old bool) { vectorElem = old }(vectorElem)
			vectorElem = vec
			update(b, ts, h)
		}()
		for _, tt := range ts {
			v, err := b.ReadFloats(tt)
			if err != nil {
				t.Fatal(err)
			}
			out[x] = append(out[x], v)
		}
	}
	for q := range out[0] {
		for i, a := range out[0][q] {
			if e := out[1][q][i]; math.Float64bits(a) != math.Float64bits(e) && !(math.IsNaN(a) && math.IsNaN(e)) {
				t.Fatalf("%s: tensor %d element %d = %v, Go loop %v", what, q, i, a, e)
			}
		}
	}
}

// optimizerState returns k random state vectors of n elements, the
// gradient (vector 1) and vector spec with special values here and there.
func optimizerState(r *rand.Rand, n, k, spec int) [][]float64 {
	special := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 5e-324, 1e-300, 1e300}
	s := make([][]float64, k)
	for q := range s {
		s[q] = make([]float64, n)
		for i := range s[q] {
			switch {
			case q == 1 && i%7 == 3, q == spec && i%11 == 5:
				s[q][i] = special[r.IntN(len(special))]
			case q == 1:
				s[q][i] = r.NormFloat64() * math.Exp(20*r.Float64()-10)
			case q >= 3:
				s[q][i] = r.Float64() * 0.01 // a second moment is not negative
			default:
				s[q][i] = r.NormFloat64()
			}
		}
	}
	return s
}

// TestVectorAdamAgree checks Adam's AVX2 loop against its Go loop, bit for
// bit, for lengths around the vector width, with and without the
// decoupled decay, at several steps and on special values.
func TestVectorAdamAgree(t *testing.T) {
	if !vectorElem {
		t.Skip("no vector loops on this processor or build")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 3, 4, 5, 8, 13, 64, 1031} {
		for _, dw := range []float64{0, 0.01} {
			for _, step := range []int{1, 2, 1000} {
				vectorAgree(t, fmt.Sprintf("adam n=%d dw=%v step=%d", n, dw, step), optimizerState(r, n, 4, 0),
					backend.AdamWHP(1e-3, 0.9, 0.999, 1e-8, dw), func(b *Backend, ts []backend.Tensor, hp backend.Tensor) {
						b.Adam(ts[0], ts[1], ts[2], ts[3], hp, nil, step)
					})
			}
		}
	}
}

// TestVectorMomentumAgree checks Momentum's AVX2 loop against its Go loop,
// bit for bit, for lengths around the vector width and on special values.
func TestVectorMomentumAgree(t *testing.T) {
	if !vectorElem {
		t.Skip("no vector loops on this processor or build")
	}
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1, 3, 4, 5, 8, 13, 64, 1031} {
		for _, mu := range []float64{0, 0.9, 0.99} {
			vectorAgree(t, fmt.Sprintf("momentum n=%d mu=%v", n, mu), optimizerState(r, n, 3, 2),
				backend.MomentumHP(0.01, mu), func(b *Backend, ts []backend.Tensor, hp backend.Tensor) {
					b.Momentum(ts[0], ts[1], ts[2], hp, nil)
				})
		}
	}
}
