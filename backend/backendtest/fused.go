package backendtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
)

// fusedShapes are the m×k·k×n products of the fused checks: a single
// element, odd sizes that are multiples of no tile, a thin k, and an exact
// 64-tile.
var fusedShapes = []MatShape{{1, 1, 1}, {37, 129, 65}, {65, 1, 33}, {7, 300, 13}, {64, 64, 64}}

// productBound returns the reference product op(a)·op(b) (m×n) and the
// MatMul check's bound on a float32 product's error for each element,
// (k+2)·u·(|A|·|B|)ᵢⱼ (see MatMul).
func (p pair) productBound(av, bv []float64, ar, ac, br, bc, m, k, n int, transA, transB bool) (prod, bound []float64) {
	p.r.Helper()
	_, a := p.tensor(ar, ac, av)
	_, b := p.tensor(br, bc, bv)
	_, absA := p.tensor(ar, ac, abs(av))
	_, absB := p.tensor(br, bc, abs(bv))
	_, c := p.tensor(m, n, nil)
	_, mag := p.tensor(m, n, nil)
	p.ref.MatMul(c, a, b, transA, transB)
	p.ref.MatMul(mag, absA, absB, transA, transB)
	prod, err := p.ref.ReadFloats(c)
	if err != nil {
		p.r.Fatalf("reference ReadFloats: %v", err)
	}
	mv, err := p.ref.ReadFloats(mag)
	if err != nil {
		p.r.Fatalf("reference ReadFloats: %v", err)
	}
	bound = make([]float64, len(mv))
	for i, v := range mv {
		bound[i] = float64(k+2)*u*v + tiny
	}
	return prod, bound
}

// MatMulBiasActivate checks the fused forward y = act(x·w + bias) for every
// activation on fusedShapes, with y holding garbage beforehand.
//
// Tolerance: the float32 product ẑ is within E = (k+2)·u·(|X|·|W|)ᵢⱼ of
// the exact one (see MatMul); adding the bias and applying act then cost
// activationBound (see BiasActivate), and the product's error passes
// through act with at most act's slope: E for identity, relu and tanh
// (slopes ≤ 1), and for sigmoid min(E/4, 2·σ·E), since σ'≤ ¼ and
// σ(z+E)/σ(z) ≤ e^E ≤ 2 relative (E ≪ 1 here) — relative, as in
// BiasActivate, so the left tail is checked as tightly as σ near ½.
func MatMulBiasActivate(t *testing.T, b backend.Backend) { matMulBiasActivate(testingT{t}, b) }

func matMulBiasActivate(r reporter, b backend.Backend) {
	p := newPair(r, b)
	for ai, act := range activations {
		for si, s := range fusedShapes {
			if skip(r, quickMatShape(s)) {
				continue
			}
			r.run(fmt.Sprintf("%v/%dx%dx%d", act, s.M, s.K, s.N), func(r reporter) {
				p := p.sub(r)
				rng := newRNG(uint64(1100 + 8*ai + si))
				xv, wv := uniform(rng, s.M*s.K, -1, 1), uniform(rng, s.K*s.N, -1, 1)
				bv := uniform(rng, s.N, -1, 1)
				xc, xr := p.tensor(s.M, s.K, xv)
				wc, wr := p.tensor(s.K, s.N, wv)
				bc, br := p.tensor(1, s.N, bv)
				yc, yr := p.tensor(s.M, s.N, nil)
				p.cand.Fill(yc, 7)
				p.cand.MatMulBiasActivate(yc, xc, wc, bc, act)
				p.ref.MatMulBiasActivate(yr, xr, wr, br, act)
				got, want := p.read(yc, yr)
				prod, pe := p.productBound(xv, wv, s.M, s.K, s.K, s.N, s.M, s.K, s.N, false, false)
				assertClose(r, got, want, func(i int) float64 {
					e := pe[i]
					if act == backend.Sigmoid {
						e = math.Min(e/4, 2*want[i]*e)
					}
					return activationBound(act, prod[i]+bv[i%s.N], want[i]) + e
				}, "matmul_bias_act "+act.String())
				for _, x := range []backend.Tensor{xc, wc, bc, yc} {
					p.cand.Free(x)
				}
			})
		}
	}
}

// MatMulActivationGrad checks the fused backward dz = (g·op(w)) ⊙ act'(z)
// for every activation on fusedShapes, with w stored plainly and
// transposed, y in each activation's range and dz holding garbage
// beforehand.
//
// Tolerance: the float32 product v̂ is within E = (k+2)·u·(|G|·|W|)ᵢⱼ of
// the exact v (see MatMul), which the derivative d = act'(y) scales:
// |d|·E; the derivative and the product with it then cost what
// ActivationGrad's do, u·(|v|·y² + 3|want|) for sigmoid and tanh and
// nothing for identity and relu (×1 or ×0).
func MatMulActivationGrad(t *testing.T, b backend.Backend) { matMulActivationGrad(testingT{t}, b) }

func matMulActivationGrad(r reporter, b backend.Backend) {
	p := newPair(r, b)
	for ai, act := range activations {
		for si, s := range fusedShapes {
			if skip(r, quickMatShape(s)) {
				continue
			}
			for _, transW := range []bool{false, true} {
				r.run(fmt.Sprintf("%v/%dx%dx%d/transW=%v", act, s.M, s.K, s.N, transW), func(r reporter) {
					p := p.sub(r)
					rng := newRNG(uint64(1200 + 16*ai + 2*si))
					wr0, wc0 := s.K, s.N
					if transW {
						wr0, wc0 = s.N, s.K
					}
					gv, wv := uniform(rng, s.M*s.K, -1, 1), uniform(rng, s.K*s.N, -1, 1)
					yv := activationOutputs(act, rng, s.M*s.N)
					gc, gr := p.tensor(s.M, s.K, gv)
					wc, wr := p.tensor(wr0, wc0, wv)
					yc, yr := p.tensor(s.M, s.N, yv)
					dc, dr := p.tensor(s.M, s.N, nil)
					p.cand.Fill(dc, 7)
					p.cand.MatMulActivationGrad(dc, gc, wc, yc, transW, act)
					p.ref.MatMulActivationGrad(dr, gr, wr, yr, transW, act)
					got, want := p.read(dc, dr)
					prod, pe := p.productBound(gv, wv, s.M, s.K, wr0, wc0, s.M, s.K, s.N, false, transW)
					assertClose(r, got, want, func(i int) float64 {
						y := yv[i]
						bound := math.Abs(cpuref.Derivative(act, y)) * pe[i]
						if act == backend.Sigmoid || act == backend.Tanh {
							bound += u * (math.Abs(prod[i])*y*y + 3*math.Abs(want[i]))
						}
						return bound + tiny
					}, "matmul_act_grad "+act.String())
					for _, x := range []backend.Tensor{gc, wc, yc, dc} {
						p.cand.Free(x)
					}
				})
			}
		}
	}
}
