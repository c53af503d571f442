package cpuref

import (
	"runtime"
	"sync"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/internal/gemm"
)

// Model arrays over the cores
//
// An operation on a model array of N ≥ GOMAXPROCS models (and at least 2)
// splits the models into GOMAXPROCS contiguous chunks and runs each on its
// own goroutine: the calling one, and long-lived workers started on first
// use. A chunk runs the operation's one-model code on each of its models
// in turn, so model k's bits are those of the same operation on model k
// alone (the array-versus-solo tests check this bit for bit); only the
// order in which models finish changes. At batch sizes like 32 each model's
// products are single-threaded in package gemm (below its parallelMACs),
// so the cores are not asked for twice. Fewer models than cores run one
// after another on the calling goroutine, each product free to use the
// cores itself.
//
// Nothing is allocated per call: an operation keeps its operands in the
// Backend's args (a Backend is not safe for concurrent use, so one
// operation runs at a time), hands the workers a plain function and a
// range of models over a channel, and waits for them on the Backend's done
// channel. A panic in a chunk (an index outside a tensor, a class label
// that is not an integer) is caught and panics again on the caller, after
// every chunk has finished.

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
}

// chunk is models lo … hi−1 of the operation f runs on b.
type chunk struct {
	f      func(b *Backend, lo, hi int)
	b      *Backend
	lo, hi int
}

var workers struct {
	once sync.Once
	n    int
	work chan chunk
}

func startWorkers() {
	workers.n = max(runtime.GOMAXPROCS(0)-1, 1)
	workers.work = make(chan chunk)
	for range workers.n {
		go func() {
			for c := range workers.work {
				c.b.done <- runChunk(c)
			}
		}()
	}
}

// runChunk runs c and returns what it panicked with, or nil.
func runChunk(c chunk) (p any) {
	defer func() { p = recover() }()
	c.f(c.b, c.lo, c.hi)
	return nil
}

// forModels runs f on models 0 … n−1 with b.args set by the caller: on
// chunks of models over the cores when n ≥ GOMAXPROCS ≥ 2, else in one call.
func (b *Backend) forModels(n int, f func(b *Backend, lo, hi int)) {
	procs := runtime.GOMAXPROCS(0)
	if n < 2 || procs < 2 || n < procs {
		f(b, 0, n)
		b.args = opArgs{}
		return
	}
	workers.once.Do(startWorkers)
	g := min(procs, workers.n+1)
	if b.done == nil {
		b.done = make(chan any, 64)
	}
	for i := 1; i < g; i++ {
		workers.work <- chunk{f: f, b: b, lo: n * i / g, hi: n * (i + 1) / g}
	}
	first := runChunk(chunk{f: f, b: b, lo: 0, hi: n / g})
	for i := 1; i < g; i++ {
		if p := <-b.done; p != nil && first == nil {
			first = p
		}
	}
	b.args = opArgs{} // hold no tensor past the operation
	if first != nil {
		panic(first)
	}
}

// The one-model bodies of the operations, and their chunk functions.

func matMulModel(a *opArgs, c, x, w *Tensor, transA, transB bool, i int) {
	gemm.Dgemm(transA, transB, a.m, a.n, a.k, x.fm(i), x.cols, w.fm(i), w.cols, c.fm(i), a.n)
}

func columnSumModel(d, s []float64) {
	n := len(d)
	copy(d, s[:n])
	for off := n; off < len(s); off += n {
		for j, v := range s[off : off+n] {
			d[j] += v
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
		matMulModel(a, a.t[0], a.t[1], a.t[2], false, false, k)
		biasActivate(a.t[0].fm(k), a.t[3].fm(k), a.act)
	}
}

// t: dz, g, w, y.
func matMulActivationGradModels(b *Backend, lo, hi int) {
	a := &b.args
	for k := lo; k < hi; k++ {
		matMulModel(a, a.t[0], a.t[1], a.t[2], false, a.transB, k)
		activationGrad(a.t[0].fm(k), a.t[3].fm(k), a.act)
	}
}

// t: x, src, idx, y, w, bias.
func gatherMatMulBiasActivateModels(b *Backend, lo, hi int) {
	a := &b.args
	x, src, idx := a.t[0], a.t[1], a.t[2]
	for k := lo; k < hi; k++ {
		gatherModel(x.fm(k), src, k, idx.im(k)[a.offset:a.offset+x.rows], a.offset, a.scale)
		matMulModel(a, a.t[3], x, a.t[4], false, false, k)
		biasActivate(a.t[3].fm(k), a.t[5].fm(k), a.act)
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
		matMulModel(a, a.t[0], a.t[2], a.t[3], true, false, k)
		columnSumModel(a.t[1].fm(k), a.t[3].fm(k))
	}
}

// t: loss, grad, out, count (nil for LossGrad); target, idx, offset, kind.
func lossGradModels(b *Backend, lo, hi int) {
	a := &b.args
	tl, tgr, to, tc := a.t[0], a.t[1], a.t[2], a.t[3]
	for k := lo; k < hi; k++ {
		tg := b.targets(a.target, a.idx, a.offset, k, a.op)
		b.lossGrad(a.op, tl.fm(k), tgr.fm(k), to.fm(k), to.rows, to.cols, tg, a.kind)
		if tc != nil {
			b.countCorrect(a.op, tc.fm(k), to.fm(k), to.rows, to.cols, tg, a.kind)
		}
	}
}
