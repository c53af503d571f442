package conformance

import (
	"fmt"
	"math"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
)

// dropoutShapes are the m×k·k×n products of the dropout checks: odd sizes
// that are multiples of no tile (scalar loads, partial tiles), an exact
// 64-tile (vec4 loads), and a long k.
var dropoutShapes = []MatShape{{37, 129, 65}, {64, 64, 64}, {7, 300, 13}}

// dropoutP is the checks' drop probability: far from 0 and 1, so that a
// mask that is wrong anywhere is wrong in many elements.
const dropoutP = 0.4

// dropoutFor is the dropout of a check's case: its own seed (with a high
// half, which the GPU receives as a second word, and a low half one below
// 2³² to which the model word, 0 or 1, is added, so that some cases carry
// into the high half), a step and a layer that are not 0.
func dropoutFor(seed int) backend.Dropout {
	return backend.Dropout{P: dropoutP, Seed: uint64(seed)<<32 | 0xffffffff, Step: 1000 + seed, Layer: 1 + seed%3, Model: seed % 2}
}

// dropout checks the dropout fused into the layer products
// (backend.Dropout) for every activation on dropoutShapes: the forward
// MatMulBiasActivate and GatherMatMulBiasActivate, and the backward
// MatMulActivationGrad through the mask, with the outputs holding garbage
// beforehand.
//
// The mask must be the reference's exactly: an element the mask drops must
// be exactly 0 (a bound of 0), and a kept element is checked against the
// reference's non-zero value, so one drawn differently fails too.
//
// Tolerance of a kept element. Forward: the reference's y = s·h, with s =
// 1/(1−P) in float64 and h = act(z) within B of the undropped result (B as
// MatMulBiasActivate's: activationBound plus the product's error through
// the activation, evaluated at h); the candidate multiplies its ĥ by s
// rounded to float32 (u) and rounds the product (u): s·B·(1+u) + 2u·|y|.
// Backward: dz = v·s·act'(h) with h = y/s recovered from the dropped y:
// the product's error E times s·|act'(h)|; the float32 s and the product
// with it, 2u·|dz|; the derivative and the product with v as
// ActivationGrad's, u·(s·|v|·h² + 3|dz|); and h recovered by a float32
// division by the float32 s, within 6u relative (u for s, 2.5 ULP = 5u for
// WGSL's division), which moves sigmoid's h(1−h) by at most 6u·h and
// tanh's 1−h² by at most 12u·h²: s·|v|·(6u·h) or s·|v|·(12u·h²).
func dropout(r reporter, b backend.Backend) {
	p := newPair(r, b)
	for ai, act := range activations {
		for si, s := range dropoutShapes {
			if skip(r, quickMatShape(s)) {
				continue
			}
			seed := 8*ai + si
			r.run(fmt.Sprintf("forward/%v/%dx%dx%d", act, s.M, s.K, s.N), func(r reporter) {
				dropoutForward(p.sub(r), act, s, seed, false)
			})
			r.run(fmt.Sprintf("gather/%v/%dx%dx%d", act, s.M, s.K, s.N), func(r reporter) {
				dropoutForward(p.sub(r), act, s, seed, true)
			})
			r.run(fmt.Sprintf("backward/%v/%dx%dx%d", act, s.M, s.K, s.N), func(r reporter) {
				dropoutBackward(p.sub(r), act, s, seed)
			})
		}
	}
}

// dropoutForward is one forward case of dropout: MatMulBiasActivate, or
// with gather GatherMatMulBiasActivate from a float source through an index
// list.
func dropoutForward(p pair, act backend.Activation, s MatShape, seed int, gather bool) {
	r := p.r
	rng := newRNG(uint64(1700 + seed))
	d := dropoutFor(seed)
	xv, wv := uniform(rng, s.M*s.K, -1, 1), uniform(rng, s.K*s.N, -1, 1)
	bv := uniform(rng, s.N, -1, 1)
	wc, wr := p.tensor(s.K, s.N, wv)
	bc, br := p.tensor(1, s.N, bv)
	xc, xr := p.tensor(s.M, s.K, xv)
	yc, yr := p.tensor(s.M, s.N, nil)
	free := []backend.Tensor{wc, bc, xc, yc}
	p.cand.Fill(yc, 7)
	what := "dropout matmul_bias_act " + act.String()
	if gather {
		// The rows of x in reverse order, gathered at an offset.
		const offset = 3
		idx := make([]uint32, offset+s.M)
		for i := range s.M {
			idx[offset+i] = uint32(s.M - 1 - i)
		}
		src := make([]float64, len(xv))
		for i := range s.M {
			copy(src[(s.M-1-i)*s.K:(s.M-i)*s.K], xv[i*s.K:(i+1)*s.K])
		}
		sc, sr := p.tensor(s.M, s.K, src)
		ic, ir := p.indices(idx)
		free = append(free, sc, ic)
		p.cand.Fill(xc, 7)
		p.cand.GatherMatMulBiasActivate(xc, sc, ic, offset, 1, yc, wc, bc, act, d)
		p.ref.GatherMatMulBiasActivate(xr, sr, ir, offset, 1, yr, wr, br, act, d)
		what = "dropout gather_matmul_bias_act " + act.String()
	} else {
		p.cand.MatMulBiasActivate(yc, xc, wc, bc, act, d)
		p.ref.MatMulBiasActivate(yr, xr, wr, br, act, d)
	}
	got, want := p.read(yc, yr)
	prod, pe := p.productBound(xv, wv, s.M, s.K, s.K, s.N, s.M, s.K, s.N, false, false)
	th, sc := d.Threshold(), d.Scale()
	assertClose(r, got, want, func(i int) float64 {
		if !d.Keep(th, 0, i) {
			return 0
		}
		h := want[i] / sc
		bound := activationBound(act, prod[i]+bv[i%s.N], h) + throughActivation(act, pe[i], h)
		return sc*bound*(1+u) + 2*u*math.Abs(want[i])
	}, what)
	checkKeptShare(r, d, len(want))
	for _, t := range free {
		p.cand.Free(t)
	}
}

// dropoutBackward is one backward case of dropout: MatMulActivationGrad
// with w transposed (as a layer passes it) and y the dropped output of a
// forward pass with the same dropout.
func dropoutBackward(p pair, act backend.Activation, s MatShape, seed int) {
	r := p.r
	rng := newRNG(uint64(1800 + seed))
	d := dropoutFor(seed)
	th, sc := d.Threshold(), d.Scale()
	gv, wv := uniform(rng, s.M*s.K, -1, 1), uniform(rng, s.N*s.K, -1, 1)
	hv := activationOutputs(act, rng, s.M*s.N)
	yv := make([]float64, len(hv))
	for i, h := range hv {
		if d.Keep(th, 0, i) {
			yv[i] = float64(float32(h * sc))
		}
	}
	gc, gr := p.tensor(s.M, s.K, gv)
	wc, wr := p.tensor(s.N, s.K, wv)
	yc, yr := p.tensor(s.M, s.N, yv)
	dc, dr := p.tensor(s.M, s.N, nil)
	p.cand.Fill(dc, 7)
	p.cand.MatMulActivationGrad(dc, gc, wc, yc, true, act, d)
	p.ref.MatMulActivationGrad(dr, gr, wr, yr, true, act, d)
	got, want := p.read(dc, dr)
	prod, pe := p.productBound(gv, wv, s.M, s.K, s.N, s.K, s.M, s.K, s.N, false, true)
	assertClose(r, got, want, func(i int) float64 {
		if !d.Keep(th, 0, i) {
			return 0
		}
		h := yv[i] / sc
		v := math.Abs(prod[i])
		bound := sc*math.Abs(cpuref.Derivative(act, h))*pe[i] + 2*u*math.Abs(want[i])
		switch act {
		case backend.Sigmoid:
			bound += u*(sc*v*h*h+3*math.Abs(want[i])) + sc*v*6*u*math.Abs(h)
		case backend.Tanh:
			bound += u*(sc*v*h*h+3*math.Abs(want[i])) + sc*v*12*u*h*h
		}
		return bound + tiny
	}, "dropout matmul_act_grad "+act.String())
	checkKeptShare(r, d, len(want))
	for _, t := range []backend.Tensor{gc, wc, yc, dc} {
		p.cand.Free(t)
	}
}

// checkKeptShare fails r unless d's mask keeps between 1−P ± 0.15 of the
// n elements, so that the cases check both kinds of element.
func checkKeptShare(r reporter, d backend.Dropout, n int) {
	r.Helper()
	th, kept := d.Threshold(), 0
	for i := range n {
		if d.Keep(th, 0, i) {
			kept++
		}
	}
	if f := float64(kept) / float64(n); math.Abs(f-(1-dropoutP)) > 0.15 {
		r.Errorf("the mask kept %d of %d elements (%.2f), want about %.2f", kept, n, f, 1-dropoutP)
	}
}
