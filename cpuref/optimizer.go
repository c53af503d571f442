package cpuref

import (
	"math"

	"github.com/gputrain/gputrain/backend"
)

// The optimizers read each model's hyperparameters from its row of hp (see
// backend.Backend's SGD) and update each model on its own (spread over the
// cores for large arrays, see models.go).

// SGD sets w -= lr·g, lr = hp[backend.HPLR] of each model. w and g are
// Float tensors of one shape, hp 1×backend.SGDHPCols; it panics otherwise.
func (b *Backend) SGD(w, g, hp backend.Tensor) {
	backend.CheckOptimizer("SGD", backend.SGDHPCols, w, g, hp)
	tw, tg, th := b.tensor(w, "SGD"), b.tensor(g, "SGD"), b.tensor(hp, "SGD")
	b.args = opArgs{t: [6]*Tensor{tw, tg, th}}
	b.forModels(tw.models, sgdModels)
}

// t: w, g, hp.
func sgdModels(b *Backend, lo, hi int) {
	tw, tg, th := b.args.t[0], b.args.t[1], b.args.t[2]
	for k := lo; k < hi; k++ {
		wf, lr := tw.fm(k), th.fm(k)[backend.HPLR]
		for i, gi := range tg.fm(k) {
			wf[i] -= lr * gi
		}
	}
}

// SGDCompensated sets w -= lr·g with Kahan compensation carried in c, by
// the same formula as the GPU: y = −lr·g − c; t = w + y; c = (t − w) − y;
// w = t, with lr = hp[backend.HPLR]. In float64 c stays tiny; the formula is
// kept so both backends run the same algorithm. w, g and c are Float
// tensors of one shape, hp 1×backend.SGDHPCols; it panics otherwise.
func (b *Backend) SGDCompensated(w, g, c, hp backend.Tensor) {
	const op = "SGDCompensated"
	backend.CheckOptimizer(op, backend.SGDHPCols, w, g, hp, c)
	tw, tg, tc, th := b.tensor(w, op), b.tensor(g, op), b.tensor(c, op), b.tensor(hp, op)
	for k := range tw.models {
		wf, cf, lr := tw.fm(k), tc.fm(k), th.fm(k)[backend.HPLR]
		for i, gi := range tg.fm(k) {
			y := -lr*gi - cf[i]
			t := wf[i] + y
			cf[i] = (t - wf[i]) - y
			wf[i] = t
		}
	}
}

// Momentum sets v = mu·v + g, then w -= lr·v, with lr and mu =
// hp[backend.HPLR] and hp[backend.HPMomentum]. w, g and the velocity v are
// Float tensors of one shape, hp 1×backend.MomentumHPCols; it panics
// otherwise.
func (b *Backend) Momentum(w, g, v, hp backend.Tensor) {
	backend.CheckOptimizer("Momentum", backend.MomentumHPCols, w, g, hp, v)
	tw, tg, tv, th := b.tensor(w, "Momentum"), b.tensor(g, "Momentum"), b.tensor(v, "Momentum"), b.tensor(hp, "Momentum")
	b.args = opArgs{t: [6]*Tensor{tw, tg, tv, th}}
	b.forModels(tw.models, momentumModels)
}

// t: w, g, v, hp.
func momentumModels(b *Backend, lo, hi int) {
	tw, tg, tv, th := b.args.t[0], b.args.t[1], b.args.t[2], b.args.t[3]
	for k := lo; k < hi; k++ {
		wf, vf, h := tw.fm(k), tv.fm(k), th.fm(k)
		lr, mu := h[backend.HPLR], h[backend.HPMomentum]
		for i, gi := range tg.fm(k) {
			vf[i] = mu*vf[i] + gi
			wf[i] -= lr * vf[i]
		}
	}
}

// Adam applies one Adam update with bias correction for step (counted from
// 1): m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
// w -= lr · (m/(1−β1^step)) / (sqrt(v/(1−β2^step)) + eps), with lr, β1, β2
// and eps from hp (backend.AdamHP's layout). w, g and the moments m and v
// are Float tensors of one shape, hp 1×backend.AdamHPCols. It panics
// otherwise, or if step < 1.
func (b *Backend) Adam(w, g, m, v, hp backend.Tensor, step int) {
	backend.CheckAdam(w, g, m, v, hp, step)
	tw, tg, th := b.tensor(w, "Adam"), b.tensor(g, "Adam"), b.tensor(hp, "Adam")
	tm, tv := b.tensor(m, "Adam"), b.tensor(v, "Adam")
	b.args = opArgs{t: [6]*Tensor{tw, tg, tm, tv, th}, step: step}
	b.forModels(tw.models, adamModels)
}

// t: w, g, m, v, hp.
func adamModels(b *Backend, lo, hi int) {
	tw, tg, tm, tv, th := b.args.t[0], b.args.t[1], b.args.t[2], b.args.t[3], b.args.t[4]
	step := b.args.step
	for k := lo; k < hi; k++ {
		h := th.fm(k)
		lr, beta1, beta2, eps := h[backend.HPLR], h[backend.HPBeta1], h[backend.HPBeta2], h[backend.HPEps]
		wf, mf, vf := tw.fm(k), tm.fm(k), tv.fm(k)
		c1 := 1 - math.Pow(beta1, float64(step))
		c2 := 1 - math.Pow(beta2, float64(step))
		for i, gi := range tg.fm(k) {
			mf[i] = beta1*mf[i] + (1-beta1)*gi
			vf[i] = beta2*vf[i] + (1-beta2)*gi*gi
			wf[i] -= lr * (mf[i] / c1) / (math.Sqrt(vf[i]/c2) + eps)
		}
	}
}
