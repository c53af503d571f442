package conformance

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gputrain/gputrain/backend"
)

// gather checks row gathering from Float and Byte sources, with an offset
// into the index list and a scale that float32 cannot represent.
//
// Tolerance: the scale is rounded to float32 (u) and the product once (u):
// 2u·|want|.
func gather(r reporter, b backend.Backend) {
	p := newPair(r, b)
	rng := newRNG(700)
	const srcRows, cols = 50, 13 // 13 byte columns: rows straddle 32-bit words
	idx := make([]uint32, 40)
	for i := range idx {
		idx[i] = uint32(rng.IntN(srcRows))
	}
	idx[0], idx[len(idx)-1] = srcRows-1, 0 // the last and first rows
	bound := func(want []float64) func(int) float64 {
		return func(i int) float64 { return 2*u*math.Abs(want[i]) + tiny }
	}
	r.run("float", func(r reporter) {
		p := p.sub(r)
		sc, sr := p.tensor(srcRows, cols, uniform(rng, srcRows*cols, -3, 3))
		ic, ir := p.indices(idx)
		dc, dr := p.tensor(17, cols, nil)
		p.cand.Gather(dc, sc, ic, 11, 0.3)
		p.ref.Gather(dr, sr, ir, 11, 0.3)
		got, want := p.read(dc, dr)
		assertClose(r, got, want, bound(want), "gather float")
	})
	r.run("byte", func(r reporter) {
		p := p.sub(r)
		pix := make([]byte, srcRows*cols)
		for i := range pix {
			pix[i] = byte(rng.IntN(256))
		}
		pix[0], pix[len(pix)-1] = 255, 255
		sc := p.newT(p.cand, "candidate", srcRows, cols, backend.Byte)
		sr := p.newT(p.ref, "reference", srcRows, cols, backend.Byte)
		if err := p.cand.WriteBytes(sc, pix); err != nil {
			r.Fatalf("candidate WriteBytes: %v", err)
		}
		if err := p.ref.WriteBytes(sr, pix); err != nil {
			r.Fatalf("reference WriteBytes: %v", err)
		}
		ic, ir := p.indices(idx)
		dc, dr := p.tensor(len(idx), cols, nil)
		p.cand.Gather(dc, sc, ic, 0, 1.0/255)
		p.ref.Gather(dr, sr, ir, 0, 1.0/255)
		got, want := p.read(dc, dr)
		assertClose(r, got, want, bound(want), "gather byte")
	})
}

// fill checks that every element is set, exactly (the value is
// float32-representable).
func fill(r reporter, b backend.Backend) {
	p := newPair(r, b)
	for _, n := range [][2]int{{1, 1}, {300, 301}} {
		r.run(fmt.Sprintf("%dx%d", n[0], n[1]), func(r reporter) {
			p := p.sub(r)
			c, rf := p.tensor(n[0], n[1], nil)
			p.cand.Fill(c, -2.25)
			p.ref.Fill(rf, -2.25)
			got, want := p.read(c, rf)
			assertClose(r, got, want, exact, fmt.Sprintf("fill %dx%d", n[0], n[1]))
			p.cand.Free(c)
		})
	}
}

// readAll checks backend.ReadAll (the backend's ReadFloatsAll where it has
// one) on tensors of several sizes, a view among them, read after pending
// work: each comes back whole and in order. The values are small integers
// and halves, exact in float32.
func readAll(r reporter, b backend.Backend) {
	p := newPair(r, b)
	shapes := [][2]int{{1, 1}, {3, 5}, {7, 2}, {1, 1}}
	var cands, refs []backend.Tensor
	for i, s := range shapes {
		vals := make([]float64, s[0]*s[1])
		for j := range vals {
			vals[j] = float64(j%9)/2 - float64(i)
		}
		c, rf := p.tensor(s[0], s[1], vals)
		cands, refs = append(cands, c), append(refs, rf)
	}
	// Pending work on one of them, and a view of another.
	p.cand.Fill(cands[3], 4.5)
	p.ref.Fill(refs[3], 4.5)
	cands = append(cands, p.cand.View(cands[1], 2))
	refs = append(refs, p.ref.View(refs[1], 2))
	got, err := backend.ReadAll(p.cand, cands...)
	if err != nil {
		r.Errorf("ReadAll: %v", err)
		return
	}
	want, err := backend.ReadAll(p.ref, refs...)
	if err != nil {
		r.Errorf("ReadAll on the reference: %v", err)
		return
	}
	if len(got) != len(want) {
		r.Errorf("ReadAll returned %d tensors, want %d", len(got), len(want))
		return
	}
	for i := range want {
		assertClose(r, got[i], want[i], exact, fmt.Sprintf("ReadAll tensor %d (%dx%d)", i, cands[i].Rows(), cands[i].Cols()))
	}
}

// optimizers checks SGD, momentum and Adam over 20 steps with a new
// gradient each step, without weight decay and with it (L2 folded into the
// gradient for each, and Adam's decoupled decay, AdamW), through a decay
// mask of 0s and 1s (weights and biases) or none.
//
// Tolerance: each step rounds w once (u·|w|), and the update's error is at
// most κ·u·lr·G, where G bounds the update's magnitude per unit lr and κ
// counts its roundings: SGD lr·g (G = 1; lr rounded, product: κ = 2);
// momentum v = μv+g (G = 1/(1−μ) = 10; μ rounded, product, sum, and the
// velocity's own error carried forward with factor μ, so ≤ 3u/(1−μ)
// relative: κ = 40); Adam (G = 4 bounds |m̂|/√v̂ for these gradients;
// m and v as momentum, the bias corrections rounded, two divisions and a
// square root of 2.5 ULP each: κ = 64). Errors add over the S steps and
// are not amplified (each step is a translation of w):
// S·(2u·(|w|+1) + κ·u·lr·G), with 2u·(|w|+1) covering the rounding of w
// and of the initial and final values.
//
// With weight decay wd the gradient is g' = g + wd·d·w: |w| stays below
// W = 1 + S·lr·G, so G becomes G·(1 + wd·W), and the decay term adds three
// roundings (wd, the product, the sum: κ + 3 counted on G's scale). A step
// is then no longer a translation: an error e in w moves the next update
// by at most lr·wd·A·e, A the step's gain on its gradient (1 for SGD and
// for the decoupled decay, 1/(1−μ) for momentum's velocity, 4 for Adam's
// normalised step as G), so the bound is multiplied by (1 + lr·wd·A)^S.
//
// With clipping (threshold 1 against gradients of norm about 13, so every
// step clips), GradNormSq's sum of n squares has a relative error of at
// most (n/256 + 9)·u (each of 256 lanes adds n/256 squares in order, a
// rounding each, then an 8-level tree; all terms positive), the square
// root halves it, and the factor min(1, c/(√s + 1e-6)) adds a rounding of
// the root, the sum and the division: the factor's relative error is at
// most (n/256 + 9)·u/2 + 3u, counted into κ on G's scale, with G the
// clipped gradient's bound (the threshold, 1, over the elements: G is
// kept, a generous bound on each element).
func optimizers(r reporter, b backend.Backend) {
	const steps, n, lr, wd, clip = 20, 517, 0.05, 0.1, 1.0
	for oi, opt := range []struct {
		name     string
		kappa, g float64
		decay    int // 0: no decay; 1: L2 through a mask; 2: decoupled (AdamW) through a mask; 3: L2 without a mask
		gain     float64
	}{
		{"sgd", 2, 1, 0, 1}, {"momentum", 40, 10, 0, 10}, {"adam", 64, 4, 0, 4}, {"sgd-compensated", 2, 1, 0, 1},
		{"sgd-l2", 2, 1, 1, 1}, {"momentum-l2", 40, 10, 1, 10}, {"adam-l2", 64, 4, 1, 4}, {"adamw", 64, 4, 2, 1},
		{"adamw-unmasked", 64, 4, 2 + 2, 1}, {"sgd-compensated-l2", 2, 1, 3, 1},
		{"sgd-clip", 2, 1, 0, 1}, {"momentum-l2-clip", 40, 10, 1, 10}, {"adamw-clip", 64, 4, 2, 1},
	} {
		clipped := strings.HasSuffix(opt.name, "-clip")
		r.run(opt.name, func(r reporter) {
			p := newPair(r, b)
			rng := newRNG(uint64(800 + oi))
			wv := uniform(rng, n, -1, 1)
			wc, wr := p.tensor(n, 1, wv)
			gc, gr := p.tensor(n, 1, nil)
			mc, mr := p.tensor(n, 1, nil)
			vc, vr := p.tensor(n, 1, nil)
			var dc, dr backend.Tensor // nil: every element decays
			l2, dw := 0.0, 0.0
			switch opt.decay {
			case 1, 2:
				mask := uniform(rng, n, 0, 1)
				for i := range mask {
					mask[i] = math.Round(mask[i])
				}
				dc, dr = p.tensor(n, 1, mask)
			}
			switch opt.decay {
			case 1, 3:
				l2 = wd
			case 2, 4:
				dw = wd
			}
			c := 0.0
			if clipped {
				c = clip
			}
			sgdC, sgdR := p.hp(backend.WithClipNorm(backend.WithWeightDecay(backend.SGDHP(lr), l2), c))
			momC, momR := p.hp(backend.WithClipNorm(backend.WithWeightDecay(backend.MomentumHP(lr, 0.9), l2), c))
			adamC, adamR := p.hp(backend.WithClipNorm(backend.WithWeightDecay(backend.AdamWHP(lr, 0.9, 0.999, 1e-8, dw), l2), c))
			kind := strings.TrimSuffix(opt.name, "-clip")
			kind = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(kind, "-l2"), "w"), "w-unmasked")
			for s := 1; s <= steps; s++ {
				p.write(gc, gr, uniform(rng, n, -1, 1))
				if clipped {
					hc, hr := sgdC, sgdR
					switch kind {
					case "momentum":
						hc, hr = momC, momR
					case "adam":
						hc, hr = adamC, adamR
					}
					p.cand.GradNormSq(hc, gc)
					p.ref.GradNormSq(hr, gr)
				}
				switch kind {
				case "sgd":
					p.cand.SGD(wc, gc, sgdC, dc)
					p.ref.SGD(wr, gr, sgdR, dr)
				case "momentum":
					p.cand.Momentum(wc, gc, mc, momC, dc)
					p.ref.Momentum(wr, gr, mr, momR, dr)
				case "adam":
					p.cand.Adam(wc, gc, mc, vc, adamC, dc, s)
					p.ref.Adam(wr, gr, mr, vr, adamR, dr, s)
				case "sgd-compensated":
					p.cand.SGDCompensated(wc, gc, mc, sgdC)
					p.ref.SGDCompensated(wr, gr, mr, sgdR)
				default:
					panic("conformance: optimizer case " + opt.name)
				}
			}
			got, want := p.read(wc, wr)
			if opt.name == "sgd-compensated" {
				// The compensated weight w − c carries the sum of the
				// updates with error about 2u·|w| plus one rounding of each
				// product lr·g (Kahan summation: Higham §4.3), not S
				// roundings of |w|: the bound has no S·|w| term.
				gc2, gr2 := p.read(mc, mr)
				for i := range got {
					got[i] -= gc2[i]
					want[i] -= gr2[i]
				}
				assertClose(r, got, want, func(i int) float64 {
					return 4*u*(math.Abs(want[i])+1)*lr + 4*u*math.Abs(want[i]) + steps*u*lr*opt.g
				}, opt.name)
				return
			}
			kappa, g, amp := opt.kappa, opt.g, 1.0
			if clipped {
				kappa += (n/256.0+9)/2 + 3
			}
			if opt.decay != 0 {
				g *= 1 + wd*(1+steps*lr*opt.g)
				kappa += 3
				amp = math.Pow(1+lr*wd*opt.gain, steps)
			}
			assertClose(r, got, want, func(i int) float64 {
				return amp * steps * (2*u*(math.Abs(want[i])+1) + kappa*u*lr*g)
			}, opt.name)
		})
	}
}

// gradNormSq checks GradNormSq, the reduction gradient clipping reads, on
// gradients of 1, 517 and 70,001 elements (one lane, a partial last
// round, many rounds), in every optimizer's table, and that it writes its
// column alone.
//
// Tolerance: a sum of n positive squares, each lane adding n/256 of them
// in order (a rounding for each square and each sum) and an 8-level tree
// over the lanes: relative error at most (2·⌈n/256⌉ + 8)·u, plus the
// rounding of the inputs to float32 (2u relative per square).
func gradNormSq(r reporter, b backend.Backend) {
	for ti, tc := range []struct {
		n   int
		row []float64
	}{{1, backend.SGDHP(0.1)}, {517, backend.MomentumHP(0.1, 0.9)}, {70001, backend.AdamWHP(0.1, 0.9, 0.999, 1e-8, 0.01)}} {
		r.run(fmt.Sprintf("n=%d/cols=%d", tc.n, len(tc.row)), func(r reporter) {
			p := newPair(r, b)
			rng := newRNG(uint64(950 + ti))
			gc, gr := p.tensor(tc.n, 1, uniform(rng, tc.n, -2, 2))
			row := backend.WithClipNorm(slices.Clone(tc.row), 0.5)
			hc, hr := p.tensor(1, len(row), row)
			p.cand.GradNormSq(hc, gc)
			p.ref.GradNormSq(hr, gr)
			got, want := p.read(hc, hr)
			rounds := float64((tc.n + 255) / 256)
			assertClose(r, got, want, func(i int) float64 {
				if i != backend.HPGradNormSq {
					return 2 * u * math.Abs(want[i]) // the host's values, rounded once
				}
				return (2*rounds + 8 + 2) * u * want[i]
			}, "GradNormSq")
		})
	}
}

// views checks that operations on a View see the parent's first rows and
// touch nothing else: MatMul, BiasActivate, LossGrad and ColumnSum on a
// 9-row view of 40-row tensors, and a view of a view. The bounds are those
// of the operations' own checks.
func views(r reporter, b backend.Backend) {
	p := newPair(r, b)
	rng := newRNG(900)
	const rows, view, k, n = 40, 9, 6, 3
	xv, wv, bv := uniform(rng, rows*k, -1, 1), uniform(rng, k*n, -1, 1), uniform(rng, n, -1, 1)
	xc, xr := p.tensor(rows, k, xv)
	wc, wr := p.tensor(k, n, wv)
	bc, br := p.tensor(1, n, bv)
	yc, yr := p.tensor(rows, n, nil)
	gc, gr := p.tensor(rows, n, nil)
	tc, tr := p.tensor(rows, n, uniform(rng, rows*n, -1, 1))
	for _, x := range [][2]backend.Tensor{{yc, yr}, {gc, gr}} {
		p.cand.Fill(x[0], 7) // marks the rows outside the views
		p.ref.Fill(x[1], 7)
	}
	xcv, xrv := p.cand.View(xc, view), p.ref.View(xr, view)
	ycv, yrv := p.cand.View(yc, view), p.ref.View(yr, view)
	gcv, grv := p.cand.View(gc, view), p.ref.View(gr, view)
	tcv, trv := p.cand.View(tc, view), p.ref.View(tr, view)
	if ycv.Rows() != view || ycv.Cols() != n || ycv.DType() != backend.Float {
		r.Fatalf("View(%d rows of %dx%d) is %dx%d %v", view, rows, n, ycv.Rows(), ycv.Cols(), ycv.DType())
	}

	p.cand.MatMul(ycv, xcv, wc, false, false)
	p.ref.MatMul(yrv, xrv, wr, false, false)
	got, want := p.read(yc, yr)
	// (k+2)·u·Σ|x||w| ≤ (k+2)·u·k for entries in [−1, 1).
	assertClose(r, got, want, func(int) float64 { return (k + 2) * u * k }, "matmul on views")
	untouched := func(got []float64, what string) {
		r.Helper()
		for i := view * n; i < len(got); i++ {
			if got[i] != 7 {
				r.Errorf("%s wrote row %d, outside its %d-row view: %v", what, i/n, view, got[i])
				return
			}
		}
	}
	untouched(got, "MatMul")

	p.cand.BiasActivate(ycv, bc, backend.Sigmoid)
	p.ref.BiasActivate(yrv, br, backend.Sigmoid)
	got, want = p.read(yc, yr)
	// The sigmoid bound at the largest |z| ≤ k+1, on top of the matmul's
	// error carried through σ' ≤ ¼.
	assertClose(r, got, want, func(int) float64 { return (13+5*(k+1))*u + (k+2)*u*k/4 }, "bias_act on views")
	untouched(got, "BiasActivate")

	lc, lr := p.tensor(1, 1, nil)
	p.cand.LossGrad(lc, gcv, ycv, tcv, backend.MeanSquaredError)
	p.ref.LossGrad(lr, grv, yrv, trv, backend.MeanSquaredError)
	got, want = p.read(gc, gr)
	// Gradients 2(y−t)/(9·3) with |y−t| ≤ 2; y carries the error above.
	ybound := (13+5*(k+1))*u + (k+2)*u*k/4
	assertClose(r, got, want, func(int) float64 { return 8*u*4.0/27 + 2*ybound/27 }, "loss gradient on views")
	untouched(got, "LossGrad")
	lg, lw := p.read(lc, lr)
	// The loss sum over the 9 rows only: (N+8)·u·l per row, the sum's γ,
	// and the error of y through (y−t)²: 2|y−t|·ybound ≤ 4·ybound a term.
	assertClose(r, lg, lw, func(int) float64 { return (n+8+view+2)*u*lw[0] + view*4*ybound }, "loss sum on views")

	sc, sr := p.tensor(1, n, nil)
	p.cand.ColumnSum(sc, gcv)
	p.ref.ColumnSum(sr, grv)
	got, want = p.read(sc, sr)
	gradBound := 8*u*4.0/27 + 2*ybound/27
	assertClose(r, got, want, func(int) float64 { return view * (gradBound + (view+1)*u*4.0/27) }, "column_sum on views")

	vv := p.cand.View(xcv, 2)
	if vv.Rows() != 2 || vv.Cols() != k {
		r.Errorf("view of a view: %dx%d, want 2x%d", vv.Rows(), vv.Cols(), k)
	}
	mc, mr := p.tensor(2, n, nil)
	p.cand.MatMul(mc, vv, wc, false, false)
	p.ref.MatMul(mr, p.ref.View(xrv, 2), wr, false, false)
	got, want = p.read(mc, mr)
	assertClose(r, got, want, func(int) float64 { return (k + 2) * u * k }, "matmul on a view of a view")
}

// slicesCheck checks tensors kept in one, as a model keeps its parameters
// (backend.Backend's Slice): a 5×3 weight and a 1×3 bias at offsets 0 and
// SliceAlign of one tensor, and their gradients at the same offsets of
// another, written and read through the slices; a layer's forward pass that
// reads two slices of one tensor; the fused weight and bias gradients, which
// write two slices of one tensor; one SGD over both whole tensors, as one
// optimizer update covers every parameter; and a view of a slice. The
// elements between and after the slices (the alignment padding) must stay
// exactly zero.
//
// Tolerance: each operation's own bound (MatMulBiasActivate,
// MatMulColumnSum); after the update w − lr·ĝ, lr times the gradient's bound
// plus 4u·(|w| + lr·|g|) for the roundings of lr, the product, the
// difference and the stored w.
func slicesCheck(r reporter, b backend.Backend) {
	p := newPair(r, b)
	rng := newRNG(1600)
	const m, k, n, lr = 7, 5, 3, 0.5
	const total = 2 * backend.SliceAlign
	pc, pr := p.tensor(total, 1, nil)
	gc, gr := p.tensor(total, 1, nil)
	type slices4 struct{ w, bias, dw, db backend.Tensor }
	slice := func(b backend.Backend, params, grads backend.Tensor) slices4 {
		return slices4{b.Slice(params, 0, k, n), b.Slice(params, backend.SliceAlign, 1, n),
			b.Slice(grads, 0, k, n), b.Slice(grads, backend.SliceAlign, 1, n)}
	}
	sc, sr := slice(p.cand, pc, gc), slice(p.ref, pr, gr)
	wv, bv := uniform(rng, k*n, -1, 1), uniform(rng, n, -1, 1)
	p.write(sc.w, sr.w, wv)
	p.write(sc.bias, sr.bias, bv)
	got, want := p.read(sc.bias, sr.bias)
	assertClose(r, got, want, exact, "bias written and read through a slice")

	xv, dv := uniform(rng, m*k, -1, 1), uniform(rng, m*n, -1, 1)
	xc, xr := p.tensor(m, k, xv)
	dc, dr := p.tensor(m, n, dv)
	yc, yr := p.tensor(m, n, nil)
	p.cand.MatMulBiasActivate(yc, xc, sc.w, sc.bias, backend.Identity, backend.Dropout{})
	p.ref.MatMulBiasActivate(yr, xr, sr.w, sr.bias, backend.Identity, backend.Dropout{})
	got, want = p.read(yc, yr)
	prod, pe := p.productBound(xv, wv, m, k, k, n, m, k, n, false, false)
	assertClose(r, got, want, func(i int) float64 {
		return activationBound(backend.Identity, prod[i]+bv[i%n], want[i]) + pe[i]
	}, "forward pass through slices")

	p.cand.MatMulColumnSum(sc.dw, sc.db, xc, dc)
	p.ref.MatMulColumnSum(sr.dw, sr.db, xr, dr)
	_, dwBound := p.productBound(xv, dv, m, k, m, n, k, m, n, true, false)
	absSum := make([]float64, n)
	for i, v := range dv {
		absSum[i%n] += math.Abs(v)
	}
	gradBound := make([]float64, total) // by element of the whole tensor; 0 in the padding
	copy(gradBound, dwBound)
	for j := range n {
		gradBound[backend.SliceAlign+j] = float64(m+1)*u*absSum[j] + tiny
	}
	gradGot, gradWant := p.read(gc, gr)
	assertClose(r, gradGot, gradWant, func(i int) float64 { return gradBound[i] }, "gradients in slices of one tensor")

	hc, hr := p.hp(backend.SGDHP(lr))
	p.cand.SGD(pc, gc, hc, nil)
	p.ref.SGD(pr, gr, hr, nil)
	got, want = p.read(pc, pr)
	old := make([]float64, total)
	copy(old, wv)
	copy(old[backend.SliceAlign:], bv)
	assertClose(r, got, want, func(i int) float64 {
		if gradBound[i] == 0 {
			return 0 // padding: untouched zeros
		}
		return lr*gradBound[i] + 4*u*(math.Abs(old[i])+lr*math.Abs(gradWant[i])) + tiny
	}, "one SGD over the whole tensor")

	vc, vr := p.cand.View(sc.w, 2), p.ref.View(sr.w, 2)
	vg, vw := p.read(vc, vr)
	assertClose(r, vg, got[:2*n], exact, "view of a slice (candidate)")
	assertClose(r, vw, want[:2*n], exact, "view of a slice (reference)")
}
