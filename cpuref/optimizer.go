package cpuref

import (
	"math"

	"github.com/gputrain/gputrain/backend"
)

// The optimizers read each model's hyperparameters from its row of hp (see
// backend.Backend's SGD) and update each model on its own (spread over the
// cores for large arrays, see models.go). The L2 weight decay
// wd = hp[backend.HPWeightDecay] is folded into the gradient of each
// element, g' = g + wd·d·w, with d the element of decay (1 everywhere
// when decay is nil); with wd 0 the gradient is used as it is.

// clipScale is the factor clipping applies to the gradient of the model
// whose row is h: min(1, c/(sqrt(|g|²) + 1e-6)), 1 without clipping.
func clipScale(h []float64) float64 {
	c := h[backend.HPClipNorm]
	if c == 0 {
		return 1
	}
	return min(1, c/(math.Sqrt(h[backend.HPGradNormSq])+1e-6))
}

// clipped returns gi scaled by s (gi itself for s = 1, bit for bit).
func clipped(gi, s float64) float64 {
	if s == 1 {
		return gi
	}
	return gi * s
}

// GradNormSq sets hp[backend.HPGradNormSq] of each model to Σ g² over
// model k of g.
func (b *Backend) GradNormSq(hp, g backend.Tensor) {
	backend.CheckGradNormSq(hp, g)
	th, tg := b.tensor(hp, "GradNormSq"), b.tensor(g, "GradNormSq")
	for k := range th.models {
		s := 0.0
		for _, v := range tg.fm(k) {
			s += v * v
		}
		th.fm(k)[backend.HPGradNormSq] = s
	}
}

// decayed returns g' for element i of model k's w (wf) and g (gi): the
// gradient with the L2 decay folded in.
func decayed(gi, wi, wd float64, d []float64, i int) float64 {
	if wd == 0 {
		return gi
	}
	if d != nil {
		return gi + wd*d[i]*wi
	}
	return gi + wd*wi
}

// fmOf returns model k's elements of t, nil for a nil t (no decay).
func fmOf(t *Tensor, k int) []float64 {
	if t == nil {
		return nil
	}
	return t.fm(k)
}

// optTensor is b.tensor(t, op), nil for a nil t.
func (b *Backend) optTensor(t backend.Tensor, op string) *Tensor {
	if t == nil {
		return nil
	}
	return b.tensor(t, op)
}

// SGD sets w -= lr·g', lr = hp[backend.HPLR] of each model. w, g and decay
// (unless nil) are Float tensors of one shape, hp 1×backend.SGDHPCols; it
// panics otherwise.
func (b *Backend) SGD(w, g, hp, decay backend.Tensor) {
	backend.CheckOptimizer("SGD", backend.SGDHPCols, w, g, hp, decay)
	tw, tg, th := b.tensor(w, "SGD"), b.tensor(g, "SGD"), b.tensor(hp, "SGD")
	b.args = opArgs{t: [6]*Tensor{tw, tg, th, b.optTensor(decay, "SGD")}}
	b.forModels(tw.models, sgdModels)
}

// t: w, g, hp, decay.
func sgdModels(b *Backend, lo, hi int) {
	tw, tg, th := b.args.t[0], b.args.t[1], b.args.t[2]
	for k := lo; k < hi; k++ {
		if b.ownedUpdate(tg, k, sgdRange) {
			continue
		}
		wf, gf, h := tw.fm(k), tg.fm(k), th.fm(k)
		if g := splits(len(wf), 1, memGrain); g >= 2 && h[backend.HPWeightDecay] == 0 && clipScale(h) == 1 {
			// Plain SGD, large: split over the cores.
			s := newSpan(sgdSpan, len(wf))
			s.y, s.x, s.lr = wf, gf[:len(wf)], h[backend.HPLR]
			s.run(g)
			continue
		}
		sgdRange(b, k, 0, len(wf))
	}
}

// sgdRange is SGD of model k on elements lo … hi−1.
func sgdRange(b *Backend, k, lo, hi int) {
	tw, tg, th, td := b.args.t[0], b.args.t[1], b.args.t[2], b.args.t[3]
	wf, gf, h, d := tw.fm(k), tg.fm(k), th.fm(k), fmOf(td, k)
	lr, wd, cs := h[backend.HPLR], h[backend.HPWeightDecay], clipScale(h)
	if wd == 0 && cs == 1 {
		// Plain SGD, the common case: the loop below with the
		// per-element tests hoisted (the same arithmetic, 4–5x faster).
		sgdPlain(wf[lo:hi], gf[lo:hi], lr)
		return
	}
	for i := lo; i < hi; i++ {
		wf[i] -= lr * decayed(clipped(gf[i], cs), wf[i], wd, d, i)
	}
}

func sgdSpan(s *span, lo, hi int) { sgdPlain(s.y[lo:hi], s.x[lo:hi], s.lr) }

// sgdPlain sets w -= lr·g element by element (g as long as w).
func sgdPlain(w, g []float64, lr float64) {
	i := 0
	if vectorElem && len(w) >= 4 {
		i = len(w) &^ 3
		_ = g[i-1]
		sgd4(&w[0], &g[0], i, lr)
	}
	for ; i+4 <= len(w); i += 4 {
		w4, g4 := (*[4]float64)(w[i:]), (*[4]float64)(g[i:])
		w4[0] -= lr * g4[0]
		w4[1] -= lr * g4[1]
		w4[2] -= lr * g4[2]
		w4[3] -= lr * g4[3]
	}
	for ; i < len(w); i++ {
		w[i] -= lr * g[i]
	}
}

// SGDCompensated sets w -= lr·g' with Kahan compensation carried in c, by
// the same formula as the GPU: y = −lr·g' − c; t = w + y; c = (t − w) − y;
// w = t, with lr = hp[backend.HPLR] and every element decayed. In float64
// c stays tiny; the formula is kept so both backends run the same
// algorithm. w, g and c are Float tensors of one shape, hp
// 1×backend.SGDHPCols; it panics otherwise.
func (b *Backend) SGDCompensated(w, g, c, hp backend.Tensor) {
	const op = "SGDCompensated"
	backend.CheckOptimizer(op, backend.SGDHPCols, w, g, hp, nil, c)
	tw, tg, tc, th := b.tensor(w, op), b.tensor(g, op), b.tensor(c, op), b.tensor(hp, op)
	for k := range tw.models {
		wf, cf, h := tw.fm(k), tc.fm(k), th.fm(k)
		lr, wd, cs := h[backend.HPLR], h[backend.HPWeightDecay], clipScale(h)
		for i, gi := range tg.fm(k) {
			y := -lr*decayed(clipped(gi, cs), wf[i], wd, nil, i) - cf[i]
			t := wf[i] + y
			cf[i] = (t - wf[i]) - y
			wf[i] = t
		}
	}
}

// Momentum sets v = mu·v + g', then w -= lr·v, with lr and mu =
// hp[backend.HPLR] and hp[backend.HPMomentum]. w, g, the velocity v and
// decay (unless nil) are Float tensors of one shape, hp
// 1×backend.MomentumHPCols; it panics otherwise.
func (b *Backend) Momentum(w, g, v, hp, decay backend.Tensor) {
	backend.CheckOptimizer("Momentum", backend.MomentumHPCols, w, g, hp, decay, v)
	tw, tg, tv, th := b.tensor(w, "Momentum"), b.tensor(g, "Momentum"), b.tensor(v, "Momentum"), b.tensor(hp, "Momentum")
	b.args = opArgs{t: [6]*Tensor{tw, tg, tv, th, b.optTensor(decay, "Momentum")}}
	b.forModels(tw.models, momentumModels)
}

// t: w, g, v, hp, decay.
func momentumModels(b *Backend, lo, hi int) {
	for k := lo; k < hi; k++ {
		b.update(b.args.t[1], k, momentumRange)
	}
}

// momentumRange is Momentum of model k on elements lo … hi−1.
func momentumRange(b *Backend, k, lo, hi int) {
	tw, tg, tv, th, td := b.args.t[0], b.args.t[1], b.args.t[2], b.args.t[3], b.args.t[4]
	wf, gf, vf, h, d := tw.fm(k), tg.fm(k), tv.fm(k), th.fm(k), fmOf(td, k)
	lr, wd, mu, cs := h[backend.HPLR], h[backend.HPWeightDecay], h[backend.HPMomentum], clipScale(h)
	if vectorElem && wd == 0 && cs == 1 && hi-lo >= 4 {
		// The loop below without decay and clipping, four elements at a
		// time: the same arithmetic, in the same order.
		n4 := (hi - lo) &^ 3
		_, _, _ = wf[lo+n4-1], gf[lo+n4-1], vf[lo+n4-1]
		momentum4(&wf[lo], &gf[lo], &vf[lo], n4, mu, lr)
		lo += n4
	}
	for i := lo; i < hi; i++ {
		vf[i] = mu*vf[i] + decayed(clipped(gf[i], cs), wf[i], wd, d, i)
		wf[i] -= lr * vf[i]
	}
}

// Adam applies one Adam update with bias correction for step (counted from
// 1): m = β1·m + (1−β1)·g'; v = β2·v + (1−β2)·g'²;
// w -= lr · ((m/(1−β1^step)) / (sqrt(v/(1−β2^step)) + eps) + dw·d·w), with
// lr, β1, β2, eps and the decoupled decay dw from hp (backend.AdamHP's
// layout). w, g, the moments m and v and decay (unless nil) are Float
// tensors of one shape, hp 1×backend.AdamHPCols. It panics otherwise, or
// if step < 1.
func (b *Backend) Adam(w, g, m, v, hp, decay backend.Tensor, step int) {
	backend.CheckAdam(w, g, m, v, hp, decay, step)
	tw, tg, th := b.tensor(w, "Adam"), b.tensor(g, "Adam"), b.tensor(hp, "Adam")
	tm, tv := b.tensor(m, "Adam"), b.tensor(v, "Adam")
	b.args = opArgs{t: [6]*Tensor{tw, tg, tm, tv, th, b.optTensor(decay, "Adam")}, step: step}
	b.forModels(tw.models, adamModels)
}

// t: w, g, m, v, hp, decay.
func adamModels(b *Backend, lo, hi int) {
	for k := lo; k < hi; k++ {
		b.update(b.args.t[1], k, adamRange)
	}
}

// adamRange is Adam of model k on elements lo … hi−1.
func adamRange(b *Backend, k, lo, hi int) {
	tw, tg, tm, tv, th, td := b.args.t[0], b.args.t[1], b.args.t[2], b.args.t[3], b.args.t[4], b.args.t[5]
	step := b.args.step
	h, d := th.fm(k), fmOf(td, k)
	lr, beta1, beta2, eps := h[backend.HPLR], h[backend.HPBeta1], h[backend.HPBeta2], h[backend.HPEps]
	wd, dw, cs := h[backend.HPWeightDecay], h[backend.HPDecoupledDecay], clipScale(h)
	wf, gf, mf, vf := tw.fm(k), tg.fm(k), tm.fm(k), tv.fm(k)
	c1 := 1 - math.Pow(beta1, float64(step))
	c2 := 1 - math.Pow(beta2, float64(step))
	if vectorElem && wd == 0 && cs == 1 && (dw == 0 || d == nil) && hi-lo >= 4 {
		// The loop below without the coupled decay and clipping, four
		// elements at a time: the same arithmetic, in the same order.
		n4 := (hi - lo) &^ 3
		k := [9]float64{beta1, 1 - beta1, beta2, 1 - beta2, c1, c2, eps, lr, dw}
		_, _, _, _ = wf[lo+n4-1], gf[lo+n4-1], mf[lo+n4-1], vf[lo+n4-1]
		adam4(&wf[lo], &gf[lo], &mf[lo], &vf[lo], n4, &k, dw != 0)
		lo += n4
	}
	for i := lo; i < hi; i++ {
		gi := decayed(clipped(gf[i], cs), wf[i], wd, d, i)
		mf[i] = beta1*mf[i] + (1-beta1)*gi
		vf[i] = beta2*vf[i] + (1-beta2)*gi*gi
		u := (mf[i] / c1) / (math.Sqrt(vf[i]/c2) + eps)
		if dw != 0 {
			u += decayed(0, wf[i], dw, d, i)
		}
		wf[i] -= lr * u
	}
}
