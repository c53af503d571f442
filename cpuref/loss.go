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
	tl, tgr, to := b.tensor(loss, "LossGrad"), b.tensor(grad, "LossGrad"), b.tensor(out, "LossGrad")
	b.args = opArgs{t: [6]*Tensor{tl, tgr, to}, target: target, kind: kind, op: "LossGrad"}
	b.forModels(tgr.models, lossGradModels)
}

// CountCorrect adds to the 1×1 count the number of rows of out predicted
// right: for BinaryCrossEntropy (out and target m×1) logit > 0 against
// target > 0.5; for SoftmaxCrossEntropy (out m×n, target m×1 class
// indices) the first largest logit against the class. It panics for
// MeanSquaredError, on a shape mismatch, or a non-Float tensor. A row whose
// logits are NaN counts as wrong.
func (b *Backend) CountCorrect(count, out, target backend.Tensor, kind backend.Loss) {
	backend.CheckCountCorrect(count, out, target, kind)
	tc, to := b.tensor(count, "CountCorrect"), b.tensor(out, "CountCorrect")
	for k := range tc.models {
		b.countCorrect("CountCorrect", tc.fm(k), to.fm(k), to.rows, to.cols, b.targets(target, nil, 0, k, "CountCorrect"), kind)
	}
}

// LossGradCount is LossGrad and, with count not nil, CountCorrect, with the
// target of row i read from row idx[offset+i] of target (row i when idx is
// nil), with exactly their arithmetic. It panics as they do, and on an index
// outside target's rows. With weights, each row's loss and gradient are
// multiplied by its class's weight.
func (b *Backend) LossGradCount(loss, count, grad, out, target, idx backend.Tensor, offset int, kind backend.Loss, weights backend.Tensor) {
	backend.CheckLossGradCount(loss, count, grad, out, target, idx, offset, kind, weights)
	const op = "LossGradCount"
	tl, tgr, to := b.tensor(loss, op), b.tensor(grad, op), b.tensor(out, op)
	var tc *Tensor
	if count != nil {
		tc = b.tensor(count, op)
	}
	var tw *Tensor
	if weights != nil {
		tw = b.tensor(weights, op)
	}
	b.args = opArgs{t: [6]*Tensor{tl, tgr, to, tc, tw}, target: target, idx: idx, offset: offset, kind: kind, op: op}
	b.forModels(tgr.models, lossGradModels)
}

// targetRows reads the rows of a target tensor, directly or through an
// index list as Gather does.
type targetRows struct {
	f    []float64
	cols int
	idx  []uint32 // nil: row i is row i
	rows int      // rows of f
	// weights are the class weights; nil: every class weighs 1.
	weights []float64
}

// weight returns the weight of class c (1 without class weights).
func (t targetRows) weight(c int) float64 {
	if t.weights == nil {
		return 1
	}
	return t.weights[c]
}

// targets returns the target rows of an operation's model k.
func (b *Backend) targets(target, idx backend.Tensor, offset, k int, op string) targetRows {
	tt := b.tensor(target, op)
	t := targetRows{f: tt.fm(k), cols: tt.cols, rows: tt.rows}
	if idx != nil {
		t.idx = b.tensor(idx, op).im(k)[offset:]
	}
	return t
}

// row returns the target of out's row i.
func (t targetRows) row(op string, i int) []float64 {
	r := i
	if t.idx != nil {
		r = int(t.idx[i])
		if r >= t.rows {
			panic(fmt.Sprintf("cpuref: %s: index %d outside the %d rows of the target", op, r, t.rows))
		}
	}
	return t.f[r*t.cols : (r+1)*t.cols]
}

func (b *Backend) lossGrad(op string, lf, gf, of []float64, rows, cols int, tg targetRows, kind backend.Loss) {
	inv := 1 / float64(rows)
	sum := 0.0
	switch kind {
	case backend.BinaryCrossEntropy:
		for i, z := range of {
			t := tg.row(op, i)[0]
			if tg.weights == nil {
				sum += BCE(z, t)
				gf[i] = (Sigmoid(z) - t) * inv
				continue
			}
			w := tg.weight(0)
			if t > 0.5 {
				w = tg.weight(1)
			}
			sum += w * BCE(z, t)
			gf[i] = w * (Sigmoid(z) - t) * inv
		}
	case backend.SoftmaxCrossEntropy:
		for i := range rows {
			z, g := of[i*cols:(i+1)*cols], gf[i*cols:(i+1)*cols]
			c := classOf(op, tg.row(op, i)[0], cols)
			lse := LogSumExp(z)
			if tg.weights == nil {
				sum += lse - z[c]
				for j, v := range z {
					g[j] = math.Exp(v-lse) * inv
				}
				g[c] -= inv
				continue
			}
			w := tg.weight(c)
			sum += w * (lse - z[c])
			for j, v := range z {
				g[j] = w * math.Exp(v-lse) * inv
			}
			g[c] -= w * inv
		}
	case backend.MeanSquaredError:
		scale := 2 / float64(rows*cols)
		for i := range rows {
			p, g := of[i*cols:(i+1)*cols], gf[i*cols:(i+1)*cols]
			for j, t := range tg.row(op, i) {
				e := p[j] - t
				sum += e * e
				g[j] = e * scale
			}
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

func (b *Backend) countCorrect(op string, cf, of []float64, rows, cols int, tg targetRows, kind backend.Loss) {
	n := 0
	switch kind {
	case backend.BinaryCrossEntropy:
		for i, z := range of {
			if !math.IsNaN(z) && (z > 0) == (tg.row(op, i)[0] > 0.5) {
				n++
			}
		}
	case backend.SoftmaxCrossEntropy:
		for i := range rows {
			z := of[i*cols : (i+1)*cols]
			best := 0
			for j, v := range z {
				if v > z[best] {
					best = j
				}
			}
			if !math.IsNaN(z[best]) && float64(best) == tg.row(op, i)[0] {
				n++
			}
		}
	}
	cf[0] += float64(n)
}
