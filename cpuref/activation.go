package cpuref

import (
	"math"

	"github.com/gputrain/gputrain/backend"
)

// Sigmoid returns 1/(1+exp(-z)) without overflow: exp is only taken of
// -|z|, so Sigmoid(-800) is 0 (the true value underflows) and never NaN.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// expLimit bounds |z| for the vector sigmoid: exp(−|z|) by its 2^k
// reduction stays a normal float64 up to |z| = 708.
const expLimit = 708

// sigmoidRow sets row[j] = Sigmoid(row[j] + bias[j]). Where the processor
// has AVX2 and FMA, each group of four (row[0:4], row[4:8], …) goes
// through sigmoidBias4 (a polynomial exp, within a few ulp of Sigmoid:
// TestVectorSigmoid) unless one of its |z| exceeds expLimit; such groups
// and the last len%4 elements take Sigmoid. The path of an element
// depends only on its group, never on other rows or columns, so a
// sample's result does not depend on its batch, and a row finished in
// blocks of columns that start at multiples of four (a product's
// epilogue) gets the bits of the whole row at once.
func sigmoidRow(row, bias []float64) {
	n4, j := 0, 0
	if vectorSigmoid {
		n4 = len(row) &^ 3
	}
	bias = bias[:len(row)]
	for j < n4 {
		// The run of groups from j whose |z| are all in range.
		e := j
		for e < n4 && inRange(row[e]+bias[e]) && inRange(row[e+1]+bias[e+1]) &&
			inRange(row[e+2]+bias[e+2]) && inRange(row[e+3]+bias[e+3]) {
			e += 4
		}
		if e > j {
			sigmoidBias4(&row[j], &bias[j], e-j)
			j = e
			continue
		}
		for ; e < j+4; e++ {
			row[e] = Sigmoid(row[e] + bias[e])
		}
		j = e
	}
	for ; j < len(row); j++ {
		row[j] = Sigmoid(row[j] + bias[j])
	}
}

// inRange reports whether sigmoidBias4 takes z: |z| ≤ expLimit, or NaN
// (which it propagates).
func inRange(z float64) bool { return !(math.Abs(z) > expLimit) }

// Derivative returns act'(z) computed from the output y = act(z): y(1-y)
// for sigmoid, 1-y² for tanh, 1 for y > 0 else 0 for relu, and 1 for
// identity.
func Derivative(act backend.Activation, y float64) float64 {
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

// BiasActivate sets y = act(y + bias) in place, adding the 1×n bias to
// every row of the m×n y. It panics if bias is not 1×n, a tensor is not
// Float, or act is unknown.
func (b *Backend) BiasActivate(y, bias backend.Tensor, act backend.Activation) {
	backend.CheckBiasActivate(y, bias, act)
	ty, tb := b.tensor(y, "BiasActivate"), b.tensor(bias, "BiasActivate")
	b.args = opArgs{t: [6]*Tensor{ty, tb}, act: act}
	b.forModels(ty.models, biasActivateModels)
}

// biasActivate is BiasActivate of one model.
func biasActivate(yf, bf []float64, act backend.Activation) {
	n := len(bf)
	if n == 0 {
		return
	}
	rows := len(yf) / n
	g := splits(rows, n, actGrain(act))
	if g < 2 {
		biasActivateRows(yf, bf, act, 0, rows)
		return
	}
	s := newSpan(biasActivateSpan, rows)
	s.y, s.x, s.act = yf, bf, act
	s.run(g)
}

// actGrain is the grain (see splits) of BiasActivate with act.
func actGrain(act backend.Activation) int {
	if act == backend.Identity || act == backend.ReLU {
		return cheapGrain
	}
	return expGrain
}

func biasActivateSpan(s *span, lo, hi int) { biasActivateRows(s.y, s.x, s.act, lo, hi) }

// biasActivateRows is BiasActivate on rows lo..hi-1 of yf.
func biasActivateRows(yf, bf []float64, act backend.Activation, lo, hi int) {
	n := len(bf)
	for off := lo * n; off < hi*n; off += n {
		biasActivateSeg(yf[off:off+n], bf, act)
	}
}

// biasActivateSeg sets row[j] = act(row[j] + bias[j]) for a row, or a
// block of a row's columns starting at a multiple of four (see sigmoidRow).
func biasActivateSeg(row, bias []float64, act backend.Activation) {
	// One loop per activation keeps the switch out of the element loop.
	switch act {
	case backend.Identity:
		for j, bj := range bias[:len(row)] {
			row[j] += bj
		}
	case backend.Sigmoid:
		sigmoidRow(row, bias)
	case backend.ReLU:
		for j, bj := range bias[:len(row)] {
			// math.Max(v, 0) without its call, the same bits: its NaN
			// for NaN, +0 for −0 and the negatives.
			switch v := row[j] + bj; {
			case v > 0:
				row[j] = v
			case v != v:
				row[j] = math.NaN()
			default:
				row[j] = 0
			}
		}
	case backend.Tanh:
		for j, bj := range bias[:len(row)] {
			row[j] = math.Tanh(row[j] + bj)
		}
	}
}

// ActivationGrad sets d = d ⊙ act'(z) in place, with the derivative taken
// from the forward output y = act(z) (see Derivative). d and y are m×n. It
// panics if their shapes differ, a tensor is not Float, or act is unknown.
func (b *Backend) ActivationGrad(d, y backend.Tensor, act backend.Activation) {
	backend.CheckActivationGrad(d, y, act)
	td, ty := b.tensor(d, "ActivationGrad"), b.tensor(y, "ActivationGrad")
	b.args = opArgs{t: [6]*Tensor{td, ty}, act: act}
	b.forModels(td.models, activationGradModels)
}

// activationGrad is ActivationGrad of one model.
func activationGrad(df, yf []float64, act backend.Activation) {
	yf = yf[:len(df)]
	if g := splits(len(df), 1, memGrain); g >= 2 {
		s := newSpan(activationGradSpan, len(df))
		s.y, s.x, s.act = df, yf, act
		s.run(g)
		return
	}
	activationGradRange(df, yf, act)
}

func activationGradSpan(s *span, lo, hi int) { activationGradRange(s.y[lo:hi], s.x[lo:hi], s.act) }

// activationGradRange is activationGrad on one range of elements.
func activationGradRange(df, yf []float64, act backend.Activation) {
	switch act {
	case backend.Sigmoid:
		i := 0
		if vectorElem && len(yf) >= 4 {
			i = len(yf) &^ 3
			_ = df[i-1]
			sigmoidGrad4(&df[0], &yf[0], i)
		}
		for ; i < len(yf); i++ {
			v := yf[i]
			df[i] *= v * (1 - v)
		}
	case backend.ReLU:
		for i, v := range yf {
			if !(v > 0) {
				df[i] = 0
			}
		}
	case backend.Tanh:
		for i, v := range yf {
			df[i] *= 1 - v*v
		}
	}
}

// MatMulBiasActivate sets y = act(x·w + bias), with x m×k, w k×n, bias 1×n
// and y m×n: MatMul then BiasActivate, with exactly their arithmetic. It
// panics on a shape mismatch, a non-Float tensor, y aliasing x or w, or an
// unknown act. With drop on, the dropout is applied after the activation
// (see Dropout): the kept elements multiplied by the float64 1/(1−P).
func (b *Backend) MatMulBiasActivate(y, x, w, bias backend.Tensor, act backend.Activation, drop backend.Dropout) {
	m, k, n := backend.CheckMatMulBiasActivate(y, x, w, bias, act, drop)
	const op = "MatMulBiasActivate"
	ty, tx, tw, tb := b.tensor(y, op), b.tensor(x, op), b.tensor(w, op), b.tensor(bias, op)
	b.args = opArgs{t: [6]*Tensor{ty, tx, tw, tb}, act: act, m: m, n: n, k: k, drop: drop}
	b.growEpilogues(ty.models)
	b.forModels(ty.models, matMulBiasActivateModels)
}

// MatMulActivationGrad sets dz = (g·op(w)) ⊙ act'(z), with the derivative
// taken from y = act(z) (see Derivative): g is m×k, op(w) k×n (w is n×k if
// transW), dz and y m×n. It is MatMul then ActivationGrad, with exactly
// their arithmetic, and panics on a shape mismatch, a non-Float tensor, dz
// aliasing g, w or y, or an unknown act. With drop on, the gradient goes
// through the dropout too (see DropoutGrad).
func (b *Backend) MatMulActivationGrad(dz, g, w, y backend.Tensor, transW bool, act backend.Activation, drop backend.Dropout) {
	m, k, n := backend.CheckMatMulActivationGrad(dz, g, w, y, transW, act, drop)
	const op = "MatMulActivationGrad"
	tz, tg, tw, ty := b.tensor(dz, op), b.tensor(g, op), b.tensor(w, op), b.tensor(y, op)
	b.args = opArgs{t: [6]*Tensor{tz, tg, tw, ty}, transB: transW, act: act, m: m, n: n, k: k, drop: drop}
	b.growEpilogues(tz.models)
	b.forModels(tz.models, matMulActivationGradModels)
}

// GatherMatMulBiasActivate is Gather(x, src, idx, offset, scale) then
// MatMulBiasActivate(y, x, w, bias, act), with exactly their arithmetic. It
// panics as they do, and if x aliases src or y aliases src. drop is
// MatMulBiasActivate's.
func (b *Backend) GatherMatMulBiasActivate(x, src, idx backend.Tensor, offset int, scale float64, y, w, bias backend.Tensor, act backend.Activation, drop backend.Dropout) {
	m, k, n := backend.CheckGatherMatMulBiasActivate(x, src, idx, offset, y, w, bias, act, drop)
	const op = "GatherMatMulBiasActivate"
	tx, ts, ti := b.tensor(x, op), b.tensor(src, op), b.tensor(idx, op)
	ty, tw, tb := b.tensor(y, op), b.tensor(w, op), b.tensor(bias, op)
	b.args = opArgs{t: [6]*Tensor{tx, ts, ti, ty, tw, tb}, act: act, m: m, n: n, k: k, offset: offset, scale: scale, drop: drop}
	b.growEpilogues(ty.models)
	b.forModels(ty.models, gatherMatMulBiasActivateModels)
}

// DropoutForward applies the dropout d to model k's m×n output y in place:
// an element the mask drops becomes 0, a kept one is multiplied by
// d.Scale() (in float64). It does nothing when d is off.
func DropoutForward(y []float64, d backend.Dropout, model int) {
	if d.On() {
		dropoutRange(y, d, model, 0)
	}
}

// dropoutRange is DropoutForward (d on) on the elements e0 … of model k's
// output held in y.
func dropoutRange(y []float64, d backend.Dropout, model, e0 int) {
	t, s := d.Threshold(), d.Scale()
	for e := range y {
		if d.Keep(t, model, e0+e) {
			y[e] *= s
		} else {
			y[e] = 0
		}
	}
}

// DropoutGrad sets dz = dz ⊙ mask · 1/(1−P) · act'(z) in place for model
// k's m×n gradient dz, y being the dropped forward output (see
// DropoutForward): where the mask keeps an element the derivative is taken
// from the undropped output y/Scale (see Derivative); where it drops one,
// dz is 0. With d off it is ActivationGrad's arithmetic.
func DropoutGrad(dz, y []float64, act backend.Activation, d backend.Dropout, model int) {
	if !d.On() {
		activationGrad(dz, y, act)
		return
	}
	dropoutGradRange(dz, y, act, d, model, 0)
}

// dropoutGradRange is DropoutGrad (d on) on the elements e0 … of model k's
// gradient held in dz, y the same elements of the output.
func dropoutGradRange(dz, y []float64, act backend.Activation, d backend.Dropout, model, e0 int) {
	t, s := d.Threshold(), d.Scale()
	for e, v := range y[:len(dz)] {
		if d.Keep(t, model, e0+e) {
			dz[e] *= s * Derivative(act, v/s)
		} else {
			dz[e] = 0
		}
	}
}
