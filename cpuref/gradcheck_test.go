package cpuref_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
)

// gradNet is a 5→7→4→k MLP (two hidden layers of activation act, linear
// output) wired from backend operations, the way package nn trains.
type gradNet struct {
	b        *cpuref.Backend
	act      backend.Activation
	kind     backend.Loss
	x, tgt   backend.Tensor
	w, bias  [3]backend.Tensor
	dw, db   [3]backend.Tensor
	h        [3]backend.Tensor // layer outputs: h[0], h[1] hidden, h[2] logits
	g        [3]backend.Tensor // dL/dh[i]
	loss     backend.Tensor
	batch    int
	sizes    [4]int
	rng      *rand.Rand
	preFloor float64 // smallest |pre-activation| seen by the last forward
	zero     [2]backend.Tensor
	// drop, when on, is applied to the hidden layers by the fused
	// operations (MatMulBiasActivate, MatMulActivationGrad), Layer l.
	drop backend.Dropout
}

// dropAt is n.drop for hidden layer l.
func (n *gradNet) dropAt(l int) backend.Dropout {
	d := n.drop
	d.Layer = l
	return d
}

func newGradNet(t *testing.T, act backend.Activation, kind backend.Loss, seed uint64) *gradNet {
	const batch = 6
	k := map[backend.Loss]int{backend.BinaryCrossEntropy: 1, backend.SoftmaxCrossEntropy: 3, backend.MeanSquaredError: 2}[kind]
	b := cpuref.New()
	t.Cleanup(func() { _ = b.Close() })
	n := &gradNet{b: b, act: act, kind: kind, batch: batch, sizes: [4]int{5, 7, 4, k}, rng: rand.New(rand.NewPCG(seed, 7))}
	uni := func(c int, lo, hi float64) []float64 {
		v := make([]float64, c)
		for i := range v {
			v[i] = lo + (hi-lo)*n.rng.Float64()
		}
		return v
	}
	n.x = mat(t, b, batch, 5, uni(batch*5, -1, 1)...)
	tv := make([]float64, batch*k)
	switch kind {
	case backend.BinaryCrossEntropy:
		for i := range tv {
			tv[i] = float64(n.rng.IntN(2))
		}
	case backend.SoftmaxCrossEntropy:
		tv = tv[:batch]
		for i := range tv {
			tv[i] = float64(n.rng.IntN(k))
		}
	case backend.MeanSquaredError:
		tv = uni(batch*k, -1, 1)
	}
	n.tgt = mat(t, b, batch, len(tv)/batch, tv...)
	for l := range 3 {
		in, out := n.sizes[l], n.sizes[l+1]
		n.w[l] = mat(t, b, in, out, uni(in*out, -1, 1)...)
		n.bias[l] = mat(t, b, 1, out, uni(out, -0.5, 0.5)...)
		n.dw[l], n.db[l] = mat(t, b, in, out), mat(t, b, 1, out)
		n.h[l], n.g[l] = mat(t, b, batch, out), mat(t, b, batch, out)
	}
	n.loss = mat(t, b, 1, 1)
	n.zero = [2]backend.Tensor{mat(t, b, 1, 7), mat(t, b, 1, 4)}
	return n
}

// forward returns the mean per-row loss and records the smallest
// |pre-activation| of the hidden layers in preFloor.
func (n *gradNet) forward() float64 {
	b := n.b
	in := n.x
	n.preFloor = math.Inf(1)
	for l := range 3 {
		b.MatMul(n.h[l], in, n.w[l], false, false)
		if l < 2 {
			b.BiasActivate(n.h[l], n.bias[l], backend.Identity)
			for _, z := range n.h[l].(*cpuref.Tensor).Data() {
				n.preFloor = math.Min(n.preFloor, math.Abs(z))
			}
			b.BiasActivate(n.h[l], n.zero[l], n.act)
			if n.drop.On() {
				// The fused forward with the dropout, over the same values.
				b.MatMulBiasActivate(n.h[l], in, n.w[l], n.bias[l], n.act, n.dropAt(l))
			}
		} else {
			b.BiasActivate(n.h[l], n.bias[l], backend.Identity)
		}
		in = n.h[l]
	}
	b.Fill(n.loss, 0)
	b.LossGrad(n.loss, n.g[2], n.h[2], n.tgt, n.kind)
	return n.loss.(*cpuref.Tensor).Data()[0] / float64(n.batch)
}

// backward fills dw and db from the gradient LossGrad left in g[2].
func (n *gradNet) backward() {
	b := n.b
	for l := 2; l >= 0; l-- {
		in := n.x
		if l > 0 {
			in = n.h[l-1]
		}
		b.MatMul(n.dw[l], in, n.g[l], true, false)
		b.ColumnSum(n.db[l], n.g[l])
		if l > 0 && n.drop.On() {
			b.MatMulActivationGrad(n.g[l-1], n.g[l], n.w[l], n.h[l-1], true, n.act, n.dropAt(l-1))
		} else if l > 0 {
			b.MatMul(n.g[l-1], n.g[l], n.w[l], false, true)
			b.ActivationGrad(n.g[l-1], n.h[l-1], n.act)
		}
	}
}

// TestFiniteDifferenceGradients proves the reference's gradients: for every
// activation and loss, the analytic gradient of every weight and bias of a
// 5→7→4→k network, computed by backpropagation with MatMul (transposed),
// ActivationGrad, ColumnSum and LossGrad, must match a central difference
// (L(p+h) − L(p−h))/2h of the mean loss computed by the forward ops.
//
// Tolerance: with h = 1e-6 the central difference has truncation error
// h²/6·|L”'| ≈ 1e-13 (the third derivatives here are O(1)) and rounding
// error ≈ eps·|L|/h ≈ 2e-16·1/1e-6 = 2e-10; so |analytic − numeric| must
// be ≤ 1e-6·|analytic| + 1e-8, a relative 1e-6 with an absolute floor 50x
// above the rounding term for gradient elements near zero. A wrong sign, a
// missing 1/m, a transposed operand or a wrong derivative each give errors
// of 1e-2 or more.
//
// ReLU has a kink at 0 where the derivative is undefined: inputs are redrawn
// (deterministically, by seed) until no hidden pre-activation is within
// 1e-3 of 0, far beyond the h·|x| ≈ 1e-6 that a perturbation moves it.
//
// The dropout cases run the hidden layers through the fused
// MatMulBiasActivate and MatMulActivationGrad with a dropout of P 0.3 (the
// mask fixed by its seed, step and layer, so the loss is a smooth function
// of the parameters): the backward pass's mask, its 1/(1−P) and the
// derivative it recovers from the dropped output must be the forward's.
func TestFiniteDifferenceGradients(t *testing.T) {
	const h, rel, abs = 1e-6, 1e-6, 1e-8
	for _, p := range []float64{0, 0.3} {
		for _, act := range []backend.Activation{backend.Sigmoid, backend.ReLU, backend.Tanh, backend.Identity} {
			for _, kind := range []backend.Loss{backend.BinaryCrossEntropy, backend.SoftmaxCrossEntropy, backend.MeanSquaredError} {
				if act == backend.Identity && p == 0 {
					continue
				}
				name := fmt.Sprintf("%v/%v", act, kind)
				if p != 0 {
					name = fmt.Sprintf("dropout=%g/%s", p, name)
				}
				t.Run(name, func(t *testing.T) { checkGradients(t, act, kind, p, h, rel, abs) })
			}
		}
	}
}

// checkGradients is one case of TestFiniteDifferenceGradients.
func checkGradients(t *testing.T, act backend.Activation, kind backend.Loss, p, h, rel, abs float64) {
	var n *gradNet
	for seed := uint64(1); ; seed++ {
		n = newGradNet(t, act, kind, seed)
		n.drop = backend.Dropout{P: p, Seed: 0x5eed + seed, Step: 3}
		n.forward()
		if act != backend.ReLU || n.preFloor > 1e-3 {
			break
		}
		if seed > 1000 {
			t.Fatal("no draw keeps relu pre-activations away from 0")
		}
	}
	n.backward()
	worst, checked := 0.0, 0
	for l := range 3 {
		for _, p := range []struct {
			name       string
			param, grd backend.Tensor
		}{{fmt.Sprintf("w%d", l+1), n.w[l], n.dw[l]}, {fmt.Sprintf("b%d", l+1), n.bias[l], n.db[l]}} {
			pf, gf := p.param.(*cpuref.Tensor).Data(), p.grd.(*cpuref.Tensor).Data()
			analytic := append([]float64(nil), gf...)
			for i := range pf {
				orig := pf[i]
				pf[i] = orig + h
				lp := n.forward()
				pf[i] = orig - h
				lm := n.forward()
				pf[i] = orig
				if act == backend.ReLU && n.preFloor <= 1e-3 {
					t.Fatalf("%s[%d]: perturbation moved a pre-activation to %g", p.name, i, n.preFloor)
				}
				num := (lp - lm) / (2 * h)
				d := math.Abs(analytic[i] - num)
				if d > rel*math.Abs(analytic[i])+abs {
					t.Errorf("%s[%d]: analytic %.12g, numeric %.12g, |difference| %.3g", p.name, i, analytic[i], num, d)
				}
				worst = math.Max(worst, d)
				checked++
			}
		}
	}
	if p != 0 {
		// The mask must drop some hidden outputs and keep others.
		dropped := 0
		for l := range 2 {
			for _, v := range n.h[l].(*cpuref.Tensor).Data() {
				if v == 0 {
					dropped++
				}
			}
		}
		if dropped == 0 || dropped == n.batch*(n.sizes[1]+n.sizes[2]) {
			t.Fatalf("%d of %d hidden outputs dropped", dropped, n.batch*(n.sizes[1]+n.sizes[2]))
		}
	}
	t.Logf("%d parameters, max |analytic − numeric| %.3g", checked, worst)
}
