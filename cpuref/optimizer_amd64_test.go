//go:build amd64 && !purego

package cpuref

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gputrain/gputrain/backend"
)

// TestVectorAdamAgree checks Adam's AVX2 loop against its Go loop, bit for
// bit: the vector path (adamRange with vectorElem) and the scalar one on
// the same state, for lengths around the vector width, with and without
// the decoupled decay, at several steps and on special values.
func TestVectorAdamAgree(t *testing.T) {
	if !vectorElem {
		t.Skip("no vector loops on this processor or build")
	}
	r := rand.New(rand.NewPCG(7, 8))
	special := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 5e-324, 1e-300, 1e300}
	for _, n := range []int{1, 3, 4, 5, 8, 13, 64, 1031} {
		for _, dw := range []float64{0, 0.01} {
			for _, step := range []int{1, 2, 1000} {
				w, g, m, v := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
				for i := range w {
					w[i], g[i] = r.NormFloat64(), r.NormFloat64()*math.Exp(20*r.Float64()-10)
					m[i], v[i] = r.NormFloat64()*0.1, r.Float64()*0.01
					if i%7 == 3 {
						g[i] = special[r.IntN(len(special))]
					}
					if i%11 == 5 {
						w[i] = special[r.IntN(len(special))]
					}
				}
				var got, want [4][]float64
				for x, vec := range []bool{true, false} {
					b := New()
					ts := make([]backend.Tensor, 4)
					for q, src := range [][]float64{w, g, m, v} {
						tt, err := b.New(1, n, backend.Float)
						if err != nil {
							t.Fatal(err)
						}
						if err := b.WriteFloats(tt, src); err != nil {
							t.Fatal(err)
						}
						ts[q] = tt
					}
					hp, err := backend.NewHP(b, 1, backend.AdamWHP(1e-3, 0.9, 0.999, 1e-8, dw))
					if err != nil {
						t.Fatal(err)
					}
					func() {
						defer func(old bool) { vectorElem = old }(vectorElem)
						vectorElem = vec
						b.Adam(ts[0], ts[1], ts[2], ts[3], hp, nil, step)
					}()
					out := &want
					if x == 0 {
						out = &got
					}
					for q := range ts {
						out[q], _ = b.ReadFloats(ts[q])
					}
				}
				for q, name := range []string{"w", "g", "m", "v"} {
					for i := range got[q] {
						a, e := got[q][i], want[q][i]
						if math.Float64bits(a) != math.Float64bits(e) && !(math.IsNaN(a) && math.IsNaN(e)) {
							t.Fatalf("n=%d dw=%v step=%d: %s[%d] = %v, Go loop %v", n, dw, step, name, i, a, e)
						}
					}
				}
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
	special := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 5e-324, 1e300}
	for _, n := range []int{1, 3, 4, 5, 8, 13, 64, 1031} {
		for _, mu := range []float64{0, 0.9, 0.99} {
			w, g, v := make([]float64, n), make([]float64, n), make([]float64, n)
			for i := range w {
				w[i], g[i], v[i] = r.NormFloat64(), r.NormFloat64()*math.Exp(20*r.Float64()-10), r.NormFloat64()
				if i%7 == 3 {
					g[i] = special[r.IntN(len(special))]
				}
				if i%11 == 5 {
					v[i] = special[r.IntN(len(special))]
				}
			}
			var got, want [3][]float64
			for x, vec := range []bool{true, false} {
				b := New()
				ts := make([]backend.Tensor, 3)
				for q, src := range [][]float64{w, g, v} {
					tt, err := b.New(1, n, backend.Float)
					if err != nil {
						t.Fatal(err)
					}
					if err := b.WriteFloats(tt, src); err != nil {
						t.Fatal(err)
					}
					ts[q] = tt
				}
				hp, err := backend.NewHP(b, 1, backend.MomentumHP(0.01, mu))
				if err != nil {
					t.Fatal(err)
				}
				func() {
					defer func(old bool) { vectorElem = old }(vectorElem)
					vectorElem = vec
					b.Momentum(ts[0], ts[1], ts[2], hp, nil)
				}()
				out := &want
				if x == 0 {
					out = &got
				}
				for q := range ts {
					out[q], _ = b.ReadFloats(ts[q])
				}
			}
			for q, name := range []string{"w", "g", "v"} {
				for i := range got[q] {
					a, e := got[q][i], want[q][i]
					if math.Float64bits(a) != math.Float64bits(e) && !(math.IsNaN(a) && math.IsNaN(e)) {
						t.Fatalf("n=%d mu=%v: %s[%d] = %v, Go loop %v", n, mu, name, i, a, e)
					}
				}
			}
		}
	}
}
