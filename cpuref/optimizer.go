package cpuref

import (
	"math"

	"github.com/gputrain/gputrain/backend"
)

// SGD sets w -= lr·g. w and g are Float tensors of one shape; it panics
// otherwise.
func (b *Backend) SGD(w, g backend.Tensor, lr float64) {
	backend.CheckSame("SGD", w, g)
	wf, gf := b.floats(w, "SGD"), b.floats(g, "SGD")
	for i, gi := range gf {
		wf[i] -= lr * gi
	}
}

// SGDCompensated sets w -= lr·g with Kahan compensation carried in c, by
// the same formula as the GPU: y = −lr·g − c; t = w + y; c = (t − w) − y;
// w = t. In float64 c stays tiny; the formula is kept so both backends run
// the same algorithm. w, g and c are Float tensors of one shape; it panics
// otherwise.
func (b *Backend) SGDCompensated(w, g, c backend.Tensor, lr float64) {
	backend.CheckSame("SGDCompensated", w, g, c)
	wf, gf, cf := b.floats(w, "SGDCompensated"), b.floats(g, "SGDCompensated"), b.floats(c, "SGDCompensated")
	for i, gi := range gf {
		y := -lr*gi - cf[i]
		t := wf[i] + y
		cf[i] = (t - wf[i]) - y
		wf[i] = t
	}
}

// Momentum sets v = mu·v + g, then w -= lr·v. w, g and the velocity v are
// Float tensors of one shape; it panics otherwise.
func (b *Backend) Momentum(w, g, v backend.Tensor, lr, mu float64) {
	backend.CheckSame("Momentum", w, g, v)
	wf, gf, vf := b.floats(w, "Momentum"), b.floats(g, "Momentum"), b.floats(v, "Momentum")
	for i, gi := range gf {
		vf[i] = mu*vf[i] + gi
		wf[i] -= lr * vf[i]
	}
}

// Adam applies one Adam update with bias correction for step (counted from
// 1): m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
// w -= lr · (m/(1−β1^step)) / (sqrt(v/(1−β2^step)) + eps).
// w, g and the moments m and v are Float tensors of one shape. It panics
// otherwise, or if step < 1.
func (b *Backend) Adam(w, g, m, v backend.Tensor, lr, beta1, beta2, eps float64, step int) {
	backend.CheckAdam(w, g, m, v, step)
	wf, gf := b.floats(w, "Adam"), b.floats(g, "Adam")
	mf, vf := b.floats(m, "Adam"), b.floats(v, "Adam")
	c1 := 1 - math.Pow(beta1, float64(step))
	c2 := 1 - math.Pow(beta2, float64(step))
	for i, gi := range gf {
		mf[i] = beta1*mf[i] + (1-beta1)*gi
		vf[i] = beta2*vf[i] + (1-beta2)*gi*gi
		wf[i] -= lr * (mf[i] / c1) / (math.Sqrt(vf[i]/c2) + eps)
	}
}
