package conformance

import (
	"fmt"
	"math"

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
	hp     backend.Tensor // SGD's [lr]
}

func newMLP(t reporter, b backend.Backend, sizes []int, batch int, x, y []float64, order []uint32, init [][]float64) *mlp {
	n := len(y)
	m := &mlp{b: b, sizes: sizes}
	newT := func(r, c int, v []float64) backend.Tensor {
		tn, err := b.New(r, c, backend.Float)
		if err != nil {
			t.Fatalf("training run: New(%d, %d): %v", r, c, err)
		}
		if v != nil {
			if err := b.WriteFloats(tn, v); err != nil {
				t.Fatalf("training run: WriteFloats: %v", err)
			}
		}
		return tn
	}
	m.x = newT(n, sizes[0], x)
	m.y = newT(n, 1, y)
	var err error
	if m.idx, err = b.New(len(order), 1, backend.Index); err != nil {
		t.Fatalf("training run: New index: %v", err)
	}
	if err := b.WriteIndices(m.idx, order); err != nil {
		t.Fatalf("training run: WriteIndices: %v", err)
	}
	m.acts = append(m.acts, newT(batch, sizes[0], nil))
	m.target = newT(batch, 1, nil)
	m.loss = newT(1, 1, nil)
	m.hp = newT(1, backend.SGDHPCols, nil)
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

// setLR writes the learning rate of the steps that follow.
func (m *mlp) setLR(t reporter, lr float64) {
	if err := m.b.WriteFloats(m.hp, backend.SGDHP(lr)); err != nil {
		t.Fatalf("training run: WriteFloats: %v", err)
	}
}

// step runs one SGD step on the batch at offset in the index list, with
// the learning rate of setLR.
func (m *mlp) step(offset int) {
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
		b.SGD(m.w[i], m.dw[i], m.hp, nil)
		b.SGD(m.bs[i], m.db[i], m.hp, nil)
	}
}

// Training-run tolerances; see TrainingRun.
const (
	trainWeightTol = 1e-5 // relative to |w|+1
	trainLossTol   = 1e-5 // relative to the mean loss
)

// trainingRun trains the same 20-16-8-1 sigmoid MLP with binary
// cross-entropy for 300 minibatch SGD steps (batch 32, lr 0.5, minibatches
// gathered through an index tensor) on the candidate and on the reference,
// from identical weights and batches, and compares the loss curve (the mean
// loss over each 25 steps) and every final weight and bias.
//
// Tolerance: there is no a-priori worst-case bound worth stating for 300
// chained steps, so the bound is empirical with headroom. Every float32
// step perturbs each weight by a few u of its update, and SGD with a small
// step on this smooth problem neither damps nor much amplifies such
// perturbations, so they add like a random walk: ~√300·10·u ≈ 1e-5 at
// worst. Measured: the reference with every op's output rounded to float32
// (float32 storage, the dominant part of float32 error; see
// TestFloat32StoragePasses) ends 1.3e-6 from the float64 run in the
// weights and 4e-8 in the loss curve; lavapipe's float32 kernels 1.4e-6 and
// 1.2e-7. The bounds, trainWeightTol·(|w|+1) and trainLossTol·|loss|, are
// about 20x and 40x those gaps, while a wrong kernel (a transposed operand,
// a missing bias, a dropped row, a matmul off by 1e-3) moves these numbers
// by 1e-3 or more (see TestBrokenBackendsFail).
func trainingRun(r reporter, b backend.Backend) {
	gotCurve, wantCurve, gotW, wantW := train(r, b)
	if wantCurve[len(wantCurve)-1] > 0.8*wantCurve[0] {
		r.Fatalf("degenerate test: the reference did not learn (loss %v → %v)", wantCurve[0], wantCurve[len(wantCurve)-1])
	}
	r.Logf("loss curve (reference): %.4f", wantCurve)
	assertClose(r, gotCurve, wantCurve, func(i int) float64 { return trainLossTol * wantCurve[i] }, "loss curve")
	for i := range gotW {
		want := wantW[i]
		assertClose(r, gotW[i], want, func(j int) float64 { return trainWeightTol * (math.Abs(want[j]) + 1) },
			fmt.Sprintf("final %s of layer %d", [2]string{"weights", "biases"}[i%2], i/2+1))
	}
}

// train runs the training run on b and on the reference and returns both
// loss curves and final parameters (w1, b1, w2, b2, …).
func train(r reporter, b backend.Backend) (gotCurve, wantCurve []float64, gotW, wantW [][]float64) {
	const (
		n, batch, steps = 256, 32, 300
		lr              = 0.5
		every           = 25
	)
	sizes := []int{20, 16, 8, 1}
	rng := newRNG(1000)
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
	p := newPair(r, b)
	mc := newMLP(r, p.cand, sizes, batch, x, y, order, init)
	mr := newMLP(r, p.ref, sizes, batch, x, y, order, init)
	mc.setLR(r, lr)
	mr.setLR(r, lr)
	for s := 0; s < steps; s++ {
		mc.step(s * batch)
		mr.step(s * batch)
		if (s+1)%every == 0 {
			lc, lr := p.read(mc.loss, mr.loss)
			gotCurve = append(gotCurve, lc[0]/(every*batch))
			wantCurve = append(wantCurve, lr[0]/(every*batch))
			p.cand.Fill(mc.loss, 0)
			p.ref.Fill(mr.loss, 0)
		}
	}
	for i := range mc.w {
		g, w := p.read(mc.w[i], mr.w[i])
		gotW, wantW = append(gotW, g), append(wantW, w)
		g, w = p.read(mc.bs[i], mr.bs[i])
		gotW, wantW = append(gotW, g), append(wantW, w)
	}
	return gotCurve, wantCurve, gotW, wantW
}
