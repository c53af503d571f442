package cpuref

import (
	"fmt"
	"math"

	"github.com/gputrain/gputrain/backend"
)

// BCE returns the binary cross-entropy of sigmoid(z) against t, computed
// from the logit in the stable form max(z,0) − z·t + log1p(exp(−|z|)),
// which is finite for every finite z.
func BCE(z, t float64) float64 {
	return math.Max(z, 0) - z*t + math.Log1p(math.Exp(-math.Abs(z)))
}

// LogSumExp returns log Σ exp(z[j]), with the maximum subtracted before
// exponentiating so that no term overflows. It panics if z is empty.
func LogSumExp(z []float64) float64 {
	mx := z[0]
	for _, v := range z[1:] {
		mx = math.Max(mx, v)
	}
	s := 0.0
	for _, v := range z {
		s += math.Exp(v - mx)
	}
	return mx + math.Log(s)
}

// LossGrad evaluates the loss kind of the m×n out against target (see
// backend.Loss for the shapes), sets the m×n grad to the gradient of the
// mean per-row loss with respect to out, and adds the sum of the per-row
// losses to the 1×1 loss:
//
//   - BinaryCrossEntropy: row loss BCE(z, t), gradient (σ(z) − t)/m.
//   - SoftmaxCrossEntropy: row loss LogSumExp(z) − z[c], gradient
//     (softmax(z) − onehot(c))/m.
//   - MeanSquaredError: row loss Σⱼ(pⱼ − tⱼ)²/n, gradient 2(p − t)/(m·n).
//
// It panics on a shape mismatch, a non-Float tensor, an unknown loss, or a
// softmax class label that is not an integer in [0, n). grad may not alias
// out or target.
func (b *Backend) LossGrad(loss, grad, out, target backend.Tensor, kind backend.Loss) {
	backend.CheckLossGrad(loss, grad, out, target, kind)
	lf, gf := b.floats(loss, "LossGrad"), b.floats(grad, "LossGrad")
	of, tf := b.floats(out, "LossGrad"), b.floats(target, "LossGrad")
	rows, cols := out.Rows(), out.Cols()
	inv := 1 / float64(rows)
	sum := 0.0
	switch kind {
	case backend.BinaryCrossEntropy:
		for i, z := range of {
			sum += BCE(z, tf[i])
			gf[i] = (Sigmoid(z) - tf[i]) * inv
		}
	case backend.SoftmaxCrossEntropy:
		for i := range rows {
			z, g := of[i*cols:(i+1)*cols], gf[i*cols:(i+1)*cols]
			c := classOf("LossGrad", tf[i], cols)
			lse := LogSumExp(z)
			sum += lse - z[c]
			for j, v := range z {
				g[j] = math.Exp(v-lse) * inv
			}
			g[c] -= inv
		}
	case backend.MeanSquaredError:
		scale := 2 / float64(rows*cols)
		for i, p := range of {
			e := p - tf[i]
			sum += e * e
			gf[i] = e * scale
		}
		sum /= float64(cols)
	}
	lf[0] += sum
}

// classOf returns the class index stored as the float v, panicking when it
// is not one of 0..cols-1.
func classOf(op string, v float64, cols int) int {
	c := int(v)
	if float64(c) != v || c < 0 || c >= cols {
		panic(fmt.Sprintf("cpuref: %s(softmax-ce): class label %v outside 0..%d", op, v, cols-1))
	}
	return c
}

// CountCorrect adds to the 1×1 count the number of rows of out predicted
// right: for BinaryCrossEntropy (out and target m×1) logit > 0 against
// target > 0.5; for SoftmaxCrossEntropy (out m×n, target m×1 class
// indices) the first largest logit against the class. It panics for
// MeanSquaredError, on a shape mismatch, or a non-Float tensor. A row whose
// logits are NaN counts as wrong.
func (b *Backend) CountCorrect(count, out, target backend.Tensor, kind backend.Loss) {
	backend.CheckCountCorrect(count, out, target, kind)
	cf := b.floats(count, "CountCorrect")
	of, tf := b.floats(out, "CountCorrect"), b.floats(target, "CountCorrect")
	cols := out.Cols()
	n := 0
	switch kind {
	case backend.BinaryCrossEntropy:
		for i, z := range of {
			if !math.IsNaN(z) && (z > 0) == (tf[i] > 0.5) {
				n++
			}
		}
	case backend.SoftmaxCrossEntropy:
		for i, t := range tf {
			z := of[i*cols : (i+1)*cols]
			best := 0
			for j, v := range z {
				if v > z[best] {
					best = j
				}
			}
			if !math.IsNaN(z[best]) && float64(best) == t {
				n++
			}
		}
	}
	cf[0] += float64(n)
}
