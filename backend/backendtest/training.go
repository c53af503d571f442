package backendtest

import (
	"math"
	"testing"

	"github.com/gputrain/gputrain/backend"
)

// mlp is a small sigmoid MLP trained with backend operations only, the way
// package nn does it, so that the suite can run a whole training loop without
// depending on nn.
type mlp struct {
	b      backend.Backend
	sizes  []int
	w, bs  []backend.Tensor // weights in×out, biases 1×out
	dw, db []backend.Tensor
	acts   []backend.Tensor // acts[0] is the input batch, acts[i+1] layer i's output
	grads  []backend.Tensor // gradient w.r.t. acts[i+1]
	x, y   backend.Tensor   // the resident data set
	idx    backend.Tensor
	target backend.Tensor
	loss   backend.Tensor
}

func must(t testing.TB) func(backend.Tensor, error) backend.Tensor {
	return func(tn backend.Tensor, err error) backend.Tensor {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tn
	}
}

func newMLP(t testing.TB, b backend.Backend, sizes []int, batch int, x, y []float64, order []uint32, init [][]float64) *mlp {
	n := len(y)
	m := &mlp{b: b, sizes: sizes}
	newT := func(r, c int, v []float64) backend.Tensor {
		tn := must(t)(b.New(r, c, backend.Float))
		if v != nil {
			if err := b.WriteFloats(tn, v); err != nil {
				t.Fatal(err)
			}
		}
		return tn
	}
	m.x = newT(n, sizes[0], x)
	m.y = newT(n, 1, y)
	m.idx = must(t)(b.New(len(order), 1, backend.Index))
	if err := b.WriteIndices(m.idx, order); err != nil {
		t.Fatal(err)
	}
	m.acts = append(m.acts, newT(batch, sizes[0], nil))
	m.target = newT(batch, 1, nil)
	m.loss = newT(1, 1, nil)
	for i := 0; i+1 < len(sizes); i++ {
		m.w = append(m.w, newT(sizes[i], sizes[i+1], init[i]))
		m.bs = append(m.bs, newT(1, sizes[i+1], nil))
		m.dw = append(m.dw, newT(sizes[i], sizes[i+1], nil))
		m.db = append(m.db, newT(1, sizes[i+1], nil))
		m.acts = append(m.acts, newT(batch, sizes[i+1], nil))
		m.grads = append(m.grads, newT(batch, sizes[i+1], nil))
	}
	return m
}

// step runs one SGD step on the batch at offset in the index list.
func (m *mlp) step(offset int, lr float64) {
	b := m.b
	b.Gather(m.acts[0], m.x, m.idx, offset, 1)
	b.Gather(m.target, m.y, m.idx, offset, 1)
	L := len(m.w)
	for i := 0; i < L; i++ {
		b.MatMul(m.acts[i+1], m.acts[i], m.w[i], false, false)
		act := backend.Sigmoid
		if i == L-1 {
			act = backend.Identity // logits; the loss applies the sigmoid
		}
		b.BiasActivate(m.acts[i+1], m.bs[i], act)
	}
	b.LossGrad(m.loss, m.grads[L-1], m.acts[L], m.target, backend.BinaryCrossEntropy)
	for i := L - 1; i >= 0; i-- {
		b.MatMul(m.dw[i], m.acts[i], m.grads[i], true, false)
		b.ColumnSum(m.db[i], m.grads[i])
		if i > 0 {
			b.MatMul(m.grads[i-1], m.grads[i], m.w[i], false, true)
			b.ActivationGrad(m.grads[i-1], m.acts[i], backend.Sigmoid)
		}
	}
	for i := 0; i < L; i++ {
		b.SGD(m.w[i], m.dw[i], lr)
		b.SGD(m.bs[i], m.db[i], lr)
	}
}

// TrainingRun trains the same 20-16-8-1 sigmoid MLP with binary
// cross-entropy for 300 minibatch SGD steps on the candidate and on the
// reference, from identical weights and batches, and compares the loss
// curve (read every 25 steps, i.e. summed over 25 batches) and every final
// weight.
//
// Tolerance: a float32 step differs from the float64 step by a few u per
// weight (about 10 roundings reach each weight per step), and SGD on this
// smooth problem with a small step does not amplify such differences much
// (the map w → w − lr·∇L has Lipschitz constant near 1). Independent
// roundings add like a random walk: after S = 300 steps about
// sqrt(S)·10·u ≈ 1e-5 relative. Weights and biases must agree within
// 1e-5·(|w|+1), and the mean losses within 1e-5·|l| + 1e-6. (Measured on
// lavapipe: 1e-6 and 8e-8, so the bound has about 10x headroom; a wrong
// kernel — a transposed operand, a missing bias, a dropped row — moves these
// numbers by 1e-2 or more.)
func TrainingRun(t *testing.T, b backend.Backend) {
	const (
		n, batch, steps = 256, 32, 300
		lr              = 0.5
	)
	sizes := []int{20, 16, 8, 1}
	rng := newRNG(8)
	x := uniform(rng, n*sizes[0], -1, 1)
	y := make([]float64, n)
	for i := range y {
		s := 0.0
		for j := 0; j < sizes[0]; j++ {
			s += x[i*sizes[0]+j] * float64(j%3-1)
		}
		if s > 0 {
			y[i] = 1
		}
	}
	order := make([]uint32, steps*batch)
	for i := range order {
		order[i] = uint32(rng.IntN(n))
	}
	var init [][]float64
	for i := 0; i+1 < len(sizes); i++ {
		lim := math.Sqrt(6 / float64(sizes[i]+sizes[i+1]))
		init = append(init, uniform(rng, sizes[i]*sizes[i+1], -lim, lim))
	}
	ref := newPair(t, b).ref
	mc := newMLP(t, b, sizes, batch, x, y, order, init)
	mr := newMLP(t, ref, sizes, batch, x, y, order, init)
	var gotCurve, wantCurve []float64
	for s := 0; s < steps; s++ {
		mc.step(s*batch, lr)
		mr.step(s*batch, lr)
		if (s+1)%25 == 0 {
			lc, err := b.ReadFloats(mc.loss)
			if err != nil {
				t.Fatal(err)
			}
			lr, _ := ref.ReadFloats(mr.loss)
			gotCurve = append(gotCurve, lc[0]/(25*batch))
			wantCurve = append(wantCurve, lr[0]/(25*batch))
			b.Fill(mc.loss, 0)
			ref.Fill(mr.loss, 0)
		}
	}
	if wantCurve[len(wantCurve)-1] > 0.8*wantCurve[0] {
		t.Fatalf("degenerate test: the reference did not learn (loss %v → %v)", wantCurve[0], wantCurve[len(wantCurve)-1])
	}
	t.Logf("loss curve (reference): %.4f", wantCurve)
	rel := func(want []float64) func(int) float64 {
		return func(i int) float64 { return 1e-5 * (math.Abs(want[i]) + 1) }
	}
	check(t, "loss curve", gotCurve, wantCurve, func(i int) float64 { return 1e-5*math.Abs(wantCurve[i]) + 1e-6 })
	for i := range mc.w {
		got, _ := b.ReadFloats(mc.w[i])
		want, _ := ref.ReadFloats(mr.w[i])
		check(t, "final weights", got, want, rel(want))
		got, _ = b.ReadFloats(mc.bs[i])
		want, _ = ref.ReadFloats(mr.bs[i])
		check(t, "final biases", got, want, rel(want))
	}
}
