package conformance

import (
	"fmt"
	"math"

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
	prod, mag := p.productMag(av, bv, ar, ac, br, bc, m, n, transA, transB)
	bound = make([]float64, len(mag))
	for i, v := range mag {
		bound[i] = float64(k+2)*u*v + tiny
	}
	return prod, bound
}

// productMag returns the reference product op(a)·op(b) (m×n) and
// (|A|·|B|)ᵢⱼ, the magnitude that the error bounds of products scale.
func (p pair) productMag(av, bv []float64, ar, ac, br, bc, m, n int, transA, transB bool) (prod, mag []float64) {
	p.r.Helper()
	_, a := p.tensor(ar, ac, av)
	_, b := p.tensor(br, bc, bv)
	_, absA := p.tensor(ar, ac, abs(av))
	_, absB := p.tensor(br, bc, abs(bv))
	_, c := p.tensor(m, n, nil)
	_, magT := p.tensor(m, n, nil)
	p.ref.MatMul(c, a, b, transA, transB)
	p.ref.MatMul(magT, absA, absB, transA, transB)
	prod, err := p.ref.ReadFloats(c)
	if err != nil {
		p.r.Fatalf("reference ReadFloats: %v", err)
	}
	mag, err = p.ref.ReadFloats(magT)
	if err != nil {
		p.r.Fatalf("reference ReadFloats: %v", err)
	}
	return prod, mag
}

// matMulBiasActivate checks the fused forward y = act(x·w + bias) for every
// activation on fusedShapes, with y holding garbage beforehand.
//
// Tolerance: the float32 product ẑ is within E = (k+2)·u·(|X|·|W|)ᵢⱼ of
// the exact one (see MatMul); adding the bias and applying act then cost
// activationBound (see BiasActivate), and the product's error passes
// through act with at most act's slope: E for identity, relu and tanh
// (slopes ≤ 1), and for sigmoid min(E/4, 2·σ·E), since σ'≤ ¼ and
// σ(z+E)/σ(z) ≤ e^E ≤ 2 relative (E ≪ 1 here) — relative, as in
// BiasActivate, so the left tail is checked as tightly as σ near ½.
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
				p.cand.MatMulBiasActivate(yc, xc, wc, bc, act, backend.Dropout{})
				p.ref.MatMulBiasActivate(yr, xr, wr, br, act, backend.Dropout{})
				got, want := p.read(yc, yr)
				prod, pe := p.productBound(xv, wv, s.M, s.K, s.K, s.N, s.M, s.K, s.N, false, false)
				assertClose(r, got, want, func(i int) float64 {
					return activationBound(act, prod[i]+bv[i%s.N], want[i]) + throughActivation(act, pe[i], want[i])
				}, "matmul_bias_act "+act.String())
				for _, x := range []backend.Tensor{xc, wc, bc, yc} {
					p.cand.Free(x)
				}
			})
		}
	}
}

// matMulActivationGrad checks the fused backward dz = (g·op(w)) ⊙ act'(z)
// for every activation on fusedShapes, with w stored plainly and
// transposed, y in each activation's range and dz holding garbage
// beforehand.
//
// Tolerance: the float32 product v̂ is within E = (k+2)·u·(|G|·|W|)ᵢⱼ of
// the exact v (see MatMul), which the derivative d = act'(y) scales:
// |d|·E; the derivative and the product with it then cost what
// ActivationGrad's do, u·(|v|·y² + 3|want|) for sigmoid and tanh and
// nothing for identity and relu (×1 or ×0).
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
					p.cand.MatMulActivationGrad(dc, gc, wc, yc, transW, act, backend.Dropout{})
					p.ref.MatMulActivationGrad(dr, gr, wr, yr, transW, act, backend.Dropout{})
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

// throughActivation bounds how an error e of the input z of an activation
// passes through it to the output want = act(z): e for identity, relu and tanh
// (slopes ≤ 1); for sigmoid min(e/4, 2·σ·e), since σ' ≤ ¼ and
// σ(z+e)/σ(z) ≤ eᵉ ≤ 2 relative (e ≪ 1 here), relative so that the left
// tail is checked as tightly as σ near ½.
func throughActivation(act backend.Activation, e, want float64) float64 {
	if act == backend.Sigmoid {
		return math.Min(e/4, 2*want*e)
	}
	return e
}

// gatherProductShapes are the m×k·k×n products of GatherMatMulBiasActivate:
// a single element, odd sizes, a k that leaves byte rows straddling 32-bit
// words, and an exact 64-tile with n a multiple of 4 (vec4 loads of w).
var gatherProductShapes = []MatShape{{1, 1, 1}, {37, 129, 65}, {7, 13, 13}, {64, 64, 64}}

// gatherMatMulBiasActivate checks the fused gather and forward layer for
// every activation, with float and byte sources, on gatherProductShapes:
// rows gathered through an index list at an offset (the first and the last
// source rows among them), x and y holding garbage beforehand.
//
// Tolerance: x as Gather's, 2u·|want| (the scale rounded to float32, then
// the product). y as MatMulBiasActivate's, with the product's bound grown
// by the rounding of x: each x̂ = x·(1+δ), |δ| ≤ 2u, adds 2u·(|X|·|W|)ᵢⱼ to
// the (k+2)·u·(|X|·|W|)ᵢⱼ of a float32 product, so E = (k+4)·u·(|X|·|W|)ᵢⱼ,
// passed through the activation as there (throughActivation); then
// activationBound.
func gatherMatMulBiasActivate(r reporter, b backend.Backend) {
	p := newPair(r, b)
	const srcRows, offset = 70, 5
	for ai, act := range activations {
		for si, s := range gatherProductShapes {
			for _, bytes := range []bool{false, true} {
				kind := "float"
				if bytes {
					kind = "byte"
				}
				r.run(fmt.Sprintf("%v/%s/%dx%dx%d", act, kind, s.M, s.K, s.N), func(r reporter) {
					p := p.sub(r)
					rng := newRNG(uint64(1300 + 16*ai + 2*si))
					idx := make([]uint32, offset+s.M+3)
					for i := range idx {
						idx[i] = uint32(rng.IntN(srcRows))
					}
					idx[offset], idx[offset+s.M-1] = srcRows-1, 0
					ic, ir := p.indices(idx)
					var sc, sr backend.Tensor
					scale := 0.3 // not a float32
					if bytes {
						sc, sr = p.pixels(rng, srcRows, s.K)
						scale = 1.0 / 255
					} else {
						sc, sr = p.tensor(srcRows, s.K, uniform(rng, srcRows*s.K, -3, 3))
					}
					wv, bv := uniform(rng, s.K*s.N, -1, 1), uniform(rng, s.N, -1, 1)
					wc, wr := p.tensor(s.K, s.N, wv)
					bc, br := p.tensor(1, s.N, bv)
					xc, xr := p.tensor(s.M, s.K, nil)
					yc, yr := p.tensor(s.M, s.N, nil)
					p.cand.Fill(xc, 7)
					p.cand.Fill(yc, 7)
					p.cand.GatherMatMulBiasActivate(xc, sc, ic, offset, scale, yc, wc, bc, act, backend.Dropout{})
					p.ref.GatherMatMulBiasActivate(xr, sr, ir, offset, scale, yr, wr, br, act, backend.Dropout{})
					got, want := p.read(xc, xr)
					assertClose(r, got, want, func(i int) float64 { return 2*u*math.Abs(want[i]) + tiny }, "gathered x")
					xv := want
					got, want = p.read(yc, yr)
					prod, mag := p.productMag(xv, wv, s.M, s.K, s.K, s.N, s.M, s.N, false, false)
					assertClose(r, got, want, func(i int) float64 {
						e := float64(s.K+4)*u*mag[i] + tiny
						return activationBound(act, prod[i]+bv[i%s.N], want[i]) + throughActivation(act, e, want[i])
					}, "gather_matmul_bias_act "+act.String())
					for _, x := range []backend.Tensor{sc, ic, wc, bc, xc, yc} {
						p.cand.Free(x)
					}
				})
			}
		}
	}
}

// columnSumShapes are the m×k inputs and m×n gradients of MatMulColumnSum:
// a single element, odd sizes, one input, a batch of one, k a multiple of 64
// (the row of ones starts a tile of its own), and shapes whose rows are
// whole vec4s.
var columnSumShapes = []MatShape{{1, 1, 1}, {37, 129, 65}, {65, 1, 33}, {1, 300, 13}, {64, 128, 64}, {300, 64, 12}}

// matMulColumnSum checks the fused weight and bias gradients dw = xᵀ·dy,
// db = Σ rows of dy on columnSumShapes (m×k x, m×n dy), with dw and db
// holding garbage beforehand.
//
// Tolerance: dw as MatMul's, (m+2)·u·(|X|ᵀ·|dY|)ᵢⱼ (the inner dimension
// is the batch m); db as ColumnSum's, (m+1)·u·Σ|dy| per column.
func matMulColumnSum(r reporter, b backend.Backend) {
	p := newPair(r, b)
	for si, s := range columnSumShapes {
		r.run(fmt.Sprintf("%dx%dx%d", s.M, s.K, s.N), func(r reporter) {
			p := p.sub(r)
			rng := newRNG(uint64(1400 + si))
			xv, dv := uniform(rng, s.M*s.K, -1, 1), uniform(rng, s.M*s.N, -1, 1)
			xc, xr := p.tensor(s.M, s.K, xv)
			dc, dr := p.tensor(s.M, s.N, dv)
			wc, wr := p.tensor(s.K, s.N, nil)
			bc, br := p.tensor(1, s.N, nil)
			p.cand.Fill(wc, 7)
			p.cand.Fill(bc, 7)
			p.cand.MatMulColumnSum(wc, bc, xc, dc)
			p.ref.MatMulColumnSum(wr, br, xr, dr)
			got, want := p.read(wc, wr)
			_, bound := p.productBound(xv, dv, s.M, s.K, s.M, s.N, s.K, s.M, s.N, true, false)
			assertClose(r, got, want, func(i int) float64 { return bound[i] }, "weight gradient")
			got, want = p.read(bc, br)
			absSum := make([]float64, s.N)
			for i, v := range dv {
				absSum[i%s.N] += math.Abs(v)
			}
			assertClose(r, got, want, func(j int) float64 { return float64(s.M+1)*u*absSum[j] + tiny }, "bias gradient")
			for _, x := range []backend.Tensor{xc, dc, wc, bc} {
				p.cand.Free(x)
			}
		})
	}
}
