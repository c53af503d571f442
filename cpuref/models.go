package cpuref

import (
	"runtime"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/internal/gemm"
	"github.com/gputrain/gputrain/internal/par"
)

// Model arrays over the cores
//
// An operation on a model array of N ≥ GOMAXPROCS models (and at least 2)
// runs as one package par loop of GOMAXPROCS chunks, chunk c holding the
// models c·N/G … (c+1)·N/G − 1 (G = GOMAXPROCS): the same models in the
// same chunk from one operation to the next. The calling goroutine claims
// chunk 0 first, and par's workers, spinning between calls, claim the
// others, so a model's weights, gradients and activations mostly stay in
// the cache of the core that last touched them; a chunk that no worker has
// claimed by the time the caller is done (a worker's core busy with other
// work) is left to the caller. Handing out one model at a time instead,
// first come first served, moved models between the cores at every
// operation: an array of 16 models of 64-128-64-10 at batch 32 took
// 1.20–1.25 ms a step that way, 0.57–0.58 ms with fixed chunks (0.96–0.97
// ms on one core; docs/bench-model-arrays.md). Each model runs the
// operation's one-model code, so model k's bits are those of the same
// operation on model k alone (the array-versus-solo tests check this bit
// for bit); only the order in which models finish changes. At batch sizes
// like 32 each model's products are single-threaded in package gemm (below
// its parallelMACs), so the cores are not asked for twice. Fewer models
// than cores run one after another on the calling goroutine, each product
// free to use the cores itself.
//
// Nothing is allocated per call: an operation keeps its operands in the
// Backend's args (a Backend is not safe for concurrent use, so one
// operation runs at a time) and its loop in the Backend's models job. A
// panic in a chunk (an index outside a tensor, a class label that is not
// an integer) panics again on the caller, after every started chunk has
// finished.

// opArgs are the operands of the operation in progress.
type opArgs struct {
	t              [6]*Tensor
	transA, transB bool
	act            backend.Activation
	kind           backend.Loss
	m, n, k        int
	offset, step   int
	scale          float64
	target, idx    backend.Tensor
	op             string
	drop           backend.Dropout
}

// modelsJob is forModels' loop as a par.Job: chunk c of g runs the
// operation on models c·n/g … (c+1)·n/g − 1.
type modelsJob struct {
	b    *Backend
	f    func(b *Backend, lo, hi int)
	n, g int
}

func (j *modelsJob) Chunk(c int) { j.f(j.b, c*j.n/j.g, (c+1)*j.n/j.g) }

// forModels runs f on models 0 … n−1 with b.args set by the caller: as
// GOMAXPROCS fixed chunks of a par loop when n ≥ GOMAXPROCS ≥ 2, else in
// one call. It returns when every model has finished.
func (b *Backend) forModels(n int, f func(b *Backend, lo, hi int)) {
	defer b.clearArgs()
	g := runtime.GOMAXPROCS(0)
	if n < 2 || n < g {
		f(b, 0, n)
		return
	}
	b.models = modelsJob{b: b, f: f, n: n, g: g}
	par.Do(&b.models, g)
}

// clearArgs drops the finished operation's operands, so that the Backend
// holds no tensor past it.
func (b *Backend) clearArgs() {
	b.args = opArgs{}
	b.models = modelsJob{}
}

// The one-model bodies of the operations, and their chunk functions.

func matMulModel(a *opArgs, c, x, w *Tensor, transA, transB bool, i int) {
	gemm.Dgemm(transA, transB, a.m, a.n, a.k, x.fm(i), x.cols, w.fm(i), w.cols, c.fm(i), a.n)
}

// columnSumModel sets d (n values) to the column sums of s (rows of n
// values), each column summed row after row.
func columnSumModel(d, s []float64) {
	n := len(d)
	j := 0
	if vectorElem && n >= 4 && len(s) >= n {
		j = n &^ 3
		_ = s[len(s)-1]
		colSum4(&d[0], &s[0], j, n, len(s)/n)
	}
	if j == n {
		return
	}
	copy(d[j:], s[j:n])
	for off := n; off < len(s); off += n {
		for c, v := range s[off+j : off+n] {
			d[j+c] += v
		}
	}
}

// t: c, a, b.
func matMulModels(b *Backend, lo, hi int) {
	a := &b.args
	for i := lo; i < hi; i++ {
		matMulModel(a, a.t[0], a.t[1], a.t[2], a.transA, a.transB, i)
	}
}

// t: dst, src.
func columnSumModels(b *Backend, lo, hi int) {
	a := &b.args
	for k := lo; k < hi; k++ {
		columnSumModel(a.t[0].fm(k), a.t[1].fm(k))
	}
}

// t: y, bias.
func biasActivateModels(b *Backend, lo, hi int) {
	a := &b.args
	for k := lo; k < hi; k++ {
		biasActivate(a.t[0].fm(k), a.t[1].fm(k), a.act)
	}
}

// t: d, y.
func activationGradModels(b *Backend, lo, hi int) {
	a := &b.args
	for k := lo; k < hi; k++ {
		activationGrad(a.t[0].fm(k), a.t[1].fm(k), a.act)
	}
}

// t: y, x, w, bias.
func matMulBiasActivateModels(b *Backend, lo, hi int) {
	a := &b.args
	for k := lo; k < hi; k++ {
		b.matMulBiasActivateModel(a.t[0], a.t[1], a.t[2], a.t[3], k)
	}
}

// matMulBiasActivateModel sets model k of y to act(x·w + bias), dropped
// out: cut by owner for a lone model's wide layer (forwardOwned), else
// with the bias, activation and dropout as the product's epilogue
// (finished block by block while in cache), unless the activation alone
// would be split over the cores, which the product itself may not be.
func (b *Backend) matMulBiasActivateModel(y, x, w, bias *Tensor, k int) {
	a := &b.args
	if b.forwardOwned(y, x, w, bias, nil, nil) {
		return
	}
	yf, bf := y.fm(k), bias.fm(k)
	if splits(a.m, a.n, actGrain(a.act)) < 2 {
		e := &b.epis[k]
		*e = epilogue{bias: bf, act: a.act, drop: a.drop, model: k, n: a.n}
		gemm.DgemmEpilogue(false, false, a.m, a.n, a.k, x.fm(k), x.cols, w.fm(k), w.cols, yf, a.n, e)
		*e = epilogue{}
		return
	}
	matMulModel(a, y, x, w, false, false, k)
	biasActivate(yf, bf, a.act)
	DropoutForward(yf, a.drop, k)
}

// t: dz, g, w, y.
func matMulActivationGradModels(b *Backend, lo, hi int) {
	a := &b.args
	for k := lo; k < hi; k++ {
		dz, g, w, y := a.t[0], a.t[1], a.t[2], a.t[3]
		if a.drop.On() || splits(a.m*a.n, 1, memGrain) < 2 {
			e := &b.epis[k]
			*e = epilogue{y: y.fm(k), act: a.act, drop: a.drop, model: k, n: a.n, grad: true}
			gemm.DgemmEpilogue(false, a.transB, a.m, a.n, a.k, g.fm(k), g.cols, w.fm(k), w.cols, dz.fm(k), a.n, e)
			*e = epilogue{}
			continue
		}
		matMulModel(a, dz, g, w, false, a.transB, k)
		activationGrad(dz.fm(k), y.fm(k), a.act)
	}
}

// t: x, src, idx, y, w, bias.
func gatherMatMulBiasActivateModels(b *Backend, lo, hi int) {
	a := &b.args
	x, src, idx := a.t[0], a.t[1], a.t[2]
	for k := lo; k < hi; k++ {
		ix := idx.im(k)[a.offset : a.offset+x.rows]
		if b.forwardOwned(a.t[3], x, a.t[4], a.t[5], src, ix) {
			continue
		}
		gatherModel(x.fm(k), src, k, ix, a.offset, a.scale)
		b.matMulBiasActivateModel(a.t[3], x, a.t[4], a.t[5], k)
	}
}

// epilogue is a layer's elementwise work as the epilogue of its product
// (gemm.Epilogue), for model k: in the forward pass (grad false) the bias,
// the activation and the dropout; in the backward pass the activation's
// derivative from the output y, through the dropout. Its arithmetic is
// that of BiasActivate, DropoutForward and DropoutGrad on the whole
// output, element by element (sigmoid's groups of four start at multiples
// of four in every block), so fusing changes no bit (TestFusedBits).
type epilogue struct {
	bias, y  []float64
	act      backend.Activation
	drop     backend.Dropout
	model, n int
	grad     bool
}

// growEpilogues makes room for the epilogues of n models.
func (b *Backend) growEpilogues(n int) {
	if len(b.epis) < n {
		b.epis = make([]epilogue, n)
	}
}

// Finish applies e to rows i0 … i1−1, columns j0 … j1−1 of c (row stride
// ldc = n).
func (e *epilogue) Finish(c []float64, ldc, i0, i1, j0, j1 int) {
	drop := e.drop.On()
	for i := i0; i < i1; i++ {
		row := c[i*ldc+j0 : i*ldc+j1]
		switch {
		case e.grad && drop:
			dropoutGradRange(row, e.y[i*e.n+j0:], e.act, e.drop, e.model, i*e.n+j0)
		case e.grad:
			activationGradRange(row, e.y[i*e.n+j0:i*e.n+j1], e.act)
		default:
			biasActivateSeg(row, e.bias[j0:j1], e.act)
			if drop {
				dropoutRange(row, e.drop, e.model, i*e.n+j0)
			}
		}
	}
}

// t: dst, src, idx.
func gatherModels(b *Backend, lo, hi int) {
	a := &b.args
	d, src, idx := a.t[0], a.t[1], a.t[2]
	for k := lo; k < hi; k++ {
		gatherModel(d.fm(k), src, k, idx.im(k)[a.offset:a.offset+d.rows], a.offset, a.scale)
	}
}

// t: dw, db, x, dy.
func matMulColumnSumModels(b *Backend, lo, hi int) {
	a := &b.args
	for k := lo; k < hi; k++ {
		if !b.gradOwned(a.t[0], a.t[2], a.t[3]) {
			matMulModel(a, a.t[0], a.t[2], a.t[3], true, false, k)
		}
		columnSumModel(a.t[1].fm(k), a.t[3].fm(k))
	}
}

// t: loss, grad, out, count (nil for LossGrad); target, idx, offset, kind.
func lossGradModels(b *Backend, lo, hi int) {
	a := &b.args
	tl, tgr, to, tc, tw := a.t[0], a.t[1], a.t[2], a.t[3], a.t[4]
	for k := lo; k < hi; k++ {
		tg := b.targets(a.target, a.idx, a.offset, k, a.op)
		if tw != nil {
			tg.weights = tw.fm(k)
		}
		b.lossGrad(a.op, tl.fm(k), tgr.fm(k), to.fm(k), to.rows, to.cols, tg, a.kind)
		if tc != nil {
			b.countCorrect(a.op, tc.fm(k), to.fm(k), to.rows, to.cols, tg, a.kind)
		}
	}
}
