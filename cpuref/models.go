package cpuref

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/internal/gemm"
)

// Model arrays over the cores
//
// An operation on a model array of N ≥ GOMAXPROCS models (and at least 2)
// runs its models on several goroutines: the calling one and long-lived
// workers started on first use (GOMAXPROCS − 1 of them), each claiming the
// next model not yet taken until none is left, so a worker that wakes late
// takes fewer models instead of holding the others up. Each model runs the
// operation's one-model code, so model k's bits are those of the same
// operation on model k alone (the array-versus-solo tests check this bit
// for bit); only the order in which models finish changes. At batch sizes like 32 each model's
// products are single-threaded in package gemm (below its parallelMACs),
// so the cores are not asked for twice. Fewer models than cores run one
// after another on the calling goroutine, each product free to use the
// cores itself.
//
// Nothing is allocated per call: an operation keeps its operands in the
// Backend's args (a Backend is not safe for concurrent use, so one
// operation runs at a time) and hands the workers a token (a plain
// function, the operation's generation and its chunking) over a buffered
// channel; the workers and the caller claim chunks from one atomic word
// (see spread), and the last to finish wakes the caller. A panic in a
// chunk (an index outside a tensor, a class label that is not an integer)
// is caught and panics again on the caller, after every chunk has
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

// spread is the chunking of the operation in progress. state holds the
// operation's generation in its high 32 bits and the next chunk to claim
// in its low 32: a goroutine claims chunk i by moving state from gen|i to
// gen|i+1, so every chunk runs exactly once, on whichever goroutine claims
// it first, and a token for an operation that has finished (another
// generation) claims nothing. left counts the chunks not yet finished; the
// goroutine that finishes the last sends on done.
type spread struct {
	gen   uint32
	state atomic.Uint64
	left  atomic.Int32
	fault atomic.Pointer[fault] // the first panic of a chunk
	done  chan struct{}
}

type fault struct{ v any }

// token asks a worker to help with generation gen of b's operation f,
// whose n models are cut into g chunks.
type token struct {
	b    *Backend
	f    func(b *Backend, lo, hi int)
	gen  uint32
	n, g int
}

var workers struct {
	once sync.Once
	n    int
	work chan token
}

func startWorkers() {
	workers.n = max(runtime.GOMAXPROCS(0)-1, 1)
	workers.work = make(chan token, 64*workers.n)
	for range workers.n {
		go func() {
			for t := range workers.work {
				t.help()
			}
		}()
	}
}

// help claims and runs chunks of t's operation until none is left.
func (t token) help() {
	sp := &t.b.spread
	for {
		s := sp.state.Load()
		i := int(uint32(s))
		if uint32(s>>32) != t.gen || i >= t.g {
			return
		}
		if !sp.state.CompareAndSwap(s, s+1) {
			continue
		}
		if p := runChunk(t.f, t.b, t.n*i/t.g, t.n*(i+1)/t.g); p != nil {
			sp.fault.CompareAndSwap(nil, &fault{p})
		}
		if sp.left.Add(-1) == 0 {
			sp.done <- struct{}{}
		}
	}
}

// runChunk runs f on models lo … hi−1 and returns what it panicked with,
// or nil.
func runChunk(f func(b *Backend, lo, hi int), b *Backend, lo, hi int) (p any) {
	defer func() { p = recover() }()
	f(b, lo, hi)
	return nil
}

// forModels runs f on models 0 … n−1 with b.args set by the caller: one
// model a chunk, claimed by the caller and the workers, when n ≥
// GOMAXPROCS ≥ 2, else in one call. A worker that the scheduler has not
// woken yet delays nothing: the caller runs the models it would have (on
// a machine whose cores are busy with other work the operation then runs
// at about the serial speed). It returns when every model has finished.
func (b *Backend) forModels(n int, f func(b *Backend, lo, hi int)) {
	procs := runtime.GOMAXPROCS(0)
	if n < 2 || procs < 2 || n < procs {
		f(b, 0, n)
		b.args = opArgs{}
		return
	}
	workers.once.Do(startWorkers)
	sp := &b.spread
	if sp.done == nil {
		sp.done = make(chan struct{}, 1)
	}
	g := n
	sp.gen++
	sp.left.Store(int32(g))
	sp.state.Store(uint64(sp.gen) << 32) // publishes b.args and left
	t := token{b: b, f: f, gen: sp.gen, n: n, g: g}
	for range min(g-1, workers.n) {
		select {
		case workers.work <- t:
		default: // the workers are behind: the caller runs the chunk
		}
	}
	t.help()
	<-sp.done
	b.args = opArgs{} // hold no tensor past the operation
	if p := sp.fault.Swap(nil); p != nil {
		panic(p.v)
	}
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
		matMulModel(a, a.t[0], a.t[1], a.t[2], false, false, k)
		biasActivate(a.t[0].fm(k), a.t[3].fm(k), a.act)
		DropoutForward(a.t[0].fm(k), a.drop, k)
	}
}

// t: dz, g, w, y.
func matMulActivationGradModels(b *Backend, lo, hi int) {
	a := &b.args
	for k := lo; k < hi; k++ {
		matMulModel(a, a.t[0], a.t[1], a.t[2], false, a.transB, k)
		DropoutGrad(a.t[0].fm(k), a.t[3].fm(k), a.act, a.drop, k)
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
		DropoutForward(a.t[3].fm(k), a.drop, k)
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
