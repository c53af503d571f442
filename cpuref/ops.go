package cpuref

import (
	"fmt"
	"math"

	"github.com/gputrain/gputrain/backend"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// MatMul sets c = op(a)·op(b) with blas64.Gemm.
func (b *Backend) MatMul(c, a, bt backend.Tensor, transA, transB bool) {
	m, k, n := backend.CheckMatMul(c, a, bt, transA, transB)
	tc, ta, tb := b.tensor(c, "MatMul"), b.tensor(a, "MatMul"), b.tensor(bt, "MatMul")
	ga := blas64.General{Rows: ta.rows, Cols: ta.cols, Stride: ta.cols, Data: ta.f}
	gb := blas64.General{Rows: tb.rows, Cols: tb.cols, Stride: tb.cols, Data: tb.f}
	gc := blas64.General{Rows: m, Cols: n, Stride: n, Data: tc.f}
	_ = k
	blas64.Gemm(trans(transA), trans(transB), 1, ga, gb, 0, gc)
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// Sigmoid is 1/(1+exp(-z)) computed without overflow: exp is only taken of a
// non-positive number.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Activate returns act(z).
func Activate(z float64, act backend.Activation) float64 {
	switch act {
	case backend.Sigmoid:
		return Sigmoid(z)
	case backend.ReLU:
		return math.Max(z, 0)
	case backend.Tanh:
		return math.Tanh(z)
	}
	return z
}

// Derivative returns act'(z) given the output y = act(z).
func Derivative(y float64, act backend.Activation) float64 {
	switch act {
	case backend.Sigmoid:
		return y * (1 - y)
	case backend.ReLU:
		if y > 0 {
			return 1
		}
		return 0
	case backend.Tanh:
		return 1 - y*y
	}
	return 1
}

// BiasActivate sets y = act(y + bias) in place.
func (b *Backend) BiasActivate(y, bias backend.Tensor, act backend.Activation) {
	backend.CheckBiasActivate(y, bias, act)
	ty, tb := b.tensor(y, "BiasActivate"), b.tensor(bias, "BiasActivate")
	for i := 0; i < ty.rows; i++ {
		row := ty.f[i*ty.cols : (i+1)*ty.cols]
		for j, bj := range tb.f {
			row[j] = Activate(row[j]+bj, act)
		}
	}
}

// ActivationGrad sets d = d ⊙ act'(z), with the derivative taken from y.
func (b *Backend) ActivationGrad(d, y backend.Tensor, act backend.Activation) {
	backend.CheckActivationGrad(d, y, act)
	td, ty := b.tensor(d, "ActivationGrad"), b.tensor(y, "ActivationGrad")
	for i, v := range ty.f {
		td.f[i] *= Derivative(v, act)
	}
}

// ColumnSum sets the 1×n dst to the sum of the rows of src.
func (b *Backend) ColumnSum(dst, src backend.Tensor) {
	backend.CheckColumnSum(dst, src)
	td, ts := b.tensor(dst, "ColumnSum"), b.tensor(src, "ColumnSum")
	clear(td.f)
	for i := 0; i < ts.rows; i++ {
		for j, v := range ts.f[i*ts.cols : (i+1)*ts.cols] {
			td.f[j] += v
		}
	}
}

// BCE returns the binary cross-entropy of sigmoid(z) against t, in the form
// max(z,0) - z·t + log1p(exp(-|z|)), finite for every finite z.
func BCE(z, t float64) float64 {
	return math.Max(z, 0) - z*t + math.Log1p(math.Exp(-math.Abs(z)))
}

// LossGrad evaluates the loss, its gradient and adds the loss sum to loss.
func (b *Backend) LossGrad(loss, grad, out, target backend.Tensor, kind backend.Loss) {
	backend.CheckLossGrad(loss, grad, out, target, kind)
	tl, tg := b.tensor(loss, "LossGrad"), b.tensor(grad, "LossGrad")
	to, tt := b.tensor(out, "LossGrad"), b.tensor(target, "LossGrad")
	rows, cols := to.rows, to.cols
	inv := 1 / float64(rows)
	sum := 0.0
	switch kind {
	case backend.BinaryCrossEntropy:
		for i, z := range to.f {
			t := tt.f[i]
			sum += BCE(z, t)
			tg.f[i] = (Sigmoid(z) - t) * inv
		}
	case backend.SoftmaxCrossEntropy:
		for i := 0; i < rows; i++ {
			z := to.f[i*cols : (i+1)*cols]
			g := tg.f[i*cols : (i+1)*cols]
			lse := logSumExp(z)
			c := classOf(tt.f[i], cols)
			sum += lse - z[c]
			for j, v := range z {
				g[j] = math.Exp(v-lse) * inv
			}
			g[c] -= inv
		}
	case backend.MeanSquaredError:
		scale := 2 / float64(rows*cols)
		for i, p := range to.f {
			e := p - tt.f[i]
			sum += e * e / float64(cols)
			tg.f[i] = e * scale
		}
	}
	tl.f[0] += sum
}

// logSumExp returns log Σ exp(z) with the maximum subtracted first.
func logSumExp(z []float64) float64 {
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

// classOf converts a class index stored as a float, panicking when it is not
// one of 0..cols-1.
func classOf(v float64, cols int) int {
	c := int(v)
	if float64(c) != v || c < 0 || c >= cols {
		panic(fmt.Sprintf("cpuref: class label %v outside 0..%d", v, cols-1))
	}
	return c
}

// CountCorrect adds the number of rows predicted right to count.
func (b *Backend) CountCorrect(count, out, target backend.Tensor, kind backend.Loss) {
	backend.CheckCountCorrect(count, out, target, kind)
	tc, to, tt := b.tensor(count, "CountCorrect"), b.tensor(out, "CountCorrect"), b.tensor(target, "CountCorrect")
	n := 0
	for i := 0; i < to.rows; i++ {
		if kind == backend.BinaryCrossEntropy {
			if (to.f[i] > 0) == (tt.f[i] > 0.5) {
				n++
			}
			continue
		}
		z := to.f[i*to.cols : (i+1)*to.cols]
		best := 0
		for j, v := range z {
			if v > z[best] {
				best = j
			}
		}
		if float64(best) == tt.f[i] {
			n++
		}
	}
	tc.f[0] += float64(n)
}

// Gather sets row i of dst to scale·src[idx[offset+i]].
func (b *Backend) Gather(dst, src, idx backend.Tensor, offset int, scale float64) {
	backend.CheckGather(dst, src, idx, offset)
	td, ts, ti := b.tensor(dst, "Gather"), b.tensor(src, "Gather"), b.tensor(idx, "Gather")
	cols := td.cols
	for i := 0; i < td.rows; i++ {
		r := int(ti.idx[offset+i])
		if r >= ts.rows {
			panic(fmt.Sprintf("cpuref: Gather: index %d outside the %d rows of src", r, ts.rows))
		}
		row := td.f[i*cols : (i+1)*cols]
		if ts.dtype == backend.Byte {
			for j, v := range ts.u8[r*cols : (r+1)*cols] {
				row[j] = float64(v) * scale
			}
		} else {
			for j, v := range ts.f[r*cols : (r+1)*cols] {
				row[j] = v * scale
			}
		}
	}
}

// Fill sets every element of t to v.
func (b *Backend) Fill(t backend.Tensor, v float64) {
	backend.CheckSame("Fill", t)
	f := b.tensor(t, "Fill").f
	for i := range f {
		f[i] = v
	}
}

// SGD sets w -= lr·g.
func (b *Backend) SGD(w, g backend.Tensor, lr float64) {
	backend.CheckSame("SGD", w, g)
	tw, tg := b.tensor(w, "SGD"), b.tensor(g, "SGD")
	for i, gi := range tg.f {
		tw.f[i] -= lr * gi
	}
}

// Momentum sets v = mu·v + g, then w -= lr·v.
func (b *Backend) Momentum(w, g, v backend.Tensor, lr, mu float64) {
	backend.CheckSame("Momentum", w, g, v)
	tw, tg, tv := b.tensor(w, "Momentum"), b.tensor(g, "Momentum"), b.tensor(v, "Momentum")
	for i, gi := range tg.f {
		tv.f[i] = mu*tv.f[i] + gi
		tw.f[i] -= lr * tv.f[i]
	}
}

// Adam applies one Adam update with bias correction for step (from 1).
func (b *Backend) Adam(w, g, m, v backend.Tensor, lr, beta1, beta2, eps float64, step int) {
	backend.CheckSame("Adam", w, g, m, v)
	if step < 1 {
		panic(fmt.Sprintf("Adam: step %d must be at least 1", step))
	}
	tw, tg, tm, tv := b.tensor(w, "Adam"), b.tensor(g, "Adam"), b.tensor(m, "Adam"), b.tensor(v, "Adam")
	c1 := 1 - math.Pow(beta1, float64(step))
	c2 := 1 - math.Pow(beta2, float64(step))
	for i, gi := range tg.f {
		tm.f[i] = beta1*tm.f[i] + (1-beta1)*gi
		tv.f[i] = beta2*tv.f[i] + (1-beta2)*gi*gi
		tw.f[i] -= lr * (tm.f[i] / c1) / (math.Sqrt(tv.f[i]/c2) + eps)
	}
}
