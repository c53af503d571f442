package cpuref

import (
	"sync"

	"github.com/gputrain/gputrain/internal/gemm"
	"github.com/gputrain/gputrain/internal/par"
)

// A wide input layer over the cores, by owner
//
// A lone model's layer with many inputs (at least 2·gemm.BlockK: the
// 784 pixels of MNIST) is cut into parts by its inputs, the rows of its
// weights: part c owns inputs ownerBound(c) … ownerBound(c+1)−1, cut at
// multiples of gemm.BlockK, and the same part is chunk c of every
// operation that touches them. The gather fills part c's columns of the
// minibatch, the forward product sums part c's blocks of inputs, the
// weight gradient computes part c's rows and the optimizer (SGD, Momentum
// or Adam, on all of the model's parameters at once) updates them, each as
// chunk c of a package par loop with one chunk a part: the caller always
// runs chunk 0 and a spinning worker chunk 1, so the weights, their
// gradient and the gathered inputs of a part stay in one core's cache from
// one operation and one step to the next, and only the layer's output and
// its gradient cross between cores. Splitting the same products by rows
// of the output instead had every core read all the weights that one core
// had just updated, which cost more than the split saved
// (BenchmarkSharedWrite in internal/gemm).
//
// The bits are those of the uncut operations: the forward product is
// computed block of inputs by block of inputs (part 0's blocks into the
// output, the others' each into a scratch matrix) and the blocks added in
// their order, which is how gemm sums a product; the weight gradient's rows
// and the update's elements do not depend on each other.

// ownedMACs is the fewest multiply-adds of a layer's product for which its
// operations are cut by owner: batches of 11 rows and more of a 784-128
// layer. At batch 32, 64 and 128 of 784-128-64-10 the cut steps took
// 0.84, 0.80 and 0.79 of the time uncut (docs/bench-cpu-gemm.md); smaller
// products were not measured cut.
var ownedMACs = 1 << 20

// cutByOwner reports whether a lone model's layer product of m×n×k
// (k inputs) is cut by owner: above ownedMACs, and, where package gemm
// would spread the product over the cores itself, only if the parts
// occupy every core (on many cores a large product's own split uses
// more of them than the inputs have parts).
func cutByOwner(m, n, k int) bool {
	parts := ownerParts(k)
	return parts > 0 && m*n*k >= ownedMACs && (parts == par.Workers() || !gemm.Splits(m, n, k))
}

// ownerParts returns how many parts a weight matrix with rows inputs is
// cut into: 0 (not cut) below 2·gemm.BlockK rows or with one processor.
func ownerParts(rows int) int {
	g := par.Workers()
	if g < 2 || rows < 2*gemm.BlockK {
		return 0
	}
	return min(g, rows/gemm.BlockK)
}

// ownerBound is the first row of part c of parts (rows for c = parts): a
// multiple of gemm.BlockK, increasing with c.
func ownerBound(rows, parts, c int) int {
	switch {
	case c <= 0:
		return 0
	case c >= parts:
		return rows
	}
	return (c*rows/parts + gemm.BlockK/2) / gemm.BlockK * gemm.BlockK
}

// ownedJob is one operation cut by owner; Chunk(c) runs part c.
type ownedJob struct {
	f     func(j *ownedJob, lo, hi, c int)
	parts int
	rows  int // the weights' rows: the layer's inputs

	// forward: gather (src, ix, offset, scale; src nil: no gather) into x
	// (m×rows), then y (m×n) = x·w, blocks beyond part 0 into t.
	x, w, y, t []float64
	src        *Tensor
	ix         []uint32
	offset     int
	scale      float64
	m, n       int
	// weight gradient: dw (rows×n) = xᵀ·dy (dy m×n); SGD: w -= lr·g.
	dy, dw []float64
	// an optimizer's update: body on ranges of own's storage (m elements).
	b    *Backend
	body func(b *Backend, k, lo, hi int)
	own  ownedRows
}

func (j *ownedJob) Chunk(c int) {
	j.f(j, ownerBound(j.rows, j.parts, c), ownerBound(j.rows, j.parts, c+1), c)
}

var ownedJobs = sync.Pool{New: func() any { return new(ownedJob) }}

// ownedForward is chunk c of the forward product: the gather of inputs
// lo … hi−1 and their blocks of the product.
func ownedForward(j *ownedJob, lo, hi, c int) {
	if j.src != nil {
		gatherBlock(j.x, j.src, 0, j.ix, j.offset, j.scale, 0, len(j.ix), lo, hi)
	}
	k, n := j.rows, j.n
	if c == 0 {
		gemm.Dgemm(false, false, j.m, n, hi, j.x, k, j.w, n, j.y, n)
		return
	}
	first := ownerBound(k, j.parts, 1)
	for p := lo; p < hi; p += gemm.BlockK {
		t := j.t[(p-first)/gemm.BlockK*j.m*n:]
		gemm.Dgemm(false, false, j.m, n, min(gemm.BlockK, hi-p), j.x[p:], k, j.w[p*n:], n, t, n)
	}
}

// ownedGrad is chunk c of the weight gradient: its rows lo … hi−1.
func ownedGrad(j *ownedJob, lo, hi, _ int) {
	gemm.Dgemm(true, false, hi-lo, j.n, j.m, j.x[lo:], j.rows, j.dy, j.n, j.dw[lo*j.n:], j.n)
}

// run does j over its parts and puts it back.
func (j *ownedJob) run() {
	par.Do(j, j.parts)
	*j = ownedJob{}
	ownedJobs.Put(j)
}

// forwardOwned is matMulBiasActivateModel (with the gather of
// gatherMatMulBiasActivate when src is not nil) for a lone model, cut by
// owner. It reports false, doing nothing, where the layer is not cut.
func (b *Backend) forwardOwned(y, x, w, bias *Tensor, src *Tensor, ix []uint32) bool {
	a := &b.args
	if y.models != 1 || a.n < gemm.MinBlockedCols || !cutByOwner(a.m, a.n, a.k) {
		return false
	}
	parts := ownerParts(a.k)
	m, n := a.m, a.n
	blocks := (a.k - ownerBound(a.k, parts, 1) + gemm.BlockK - 1) / gemm.BlockK
	if need := blocks * m * n; len(b.scratch) < need {
		b.scratch = make([]float64, need)
	}
	yf := y.fm(0)
	j := ownedJobs.Get().(*ownedJob)
	*j = ownedJob{f: ownedForward, parts: parts, rows: a.k, x: x.fm(0), w: w.fm(0), y: yf, t: b.scratch,
		src: src, ix: ix, offset: a.offset, scale: a.scale, m: m, n: n}
	j.run()
	for q := range blocks {
		for i, v := range b.scratch[q*m*n : (q+1)*m*n] {
			yf[i] += v
		}
	}
	b.ownedForwards++
	e := &b.epis[0]
	*e = epilogue{bias: bias.fm(0), act: a.act, drop: a.drop, n: n}
	e.Finish(yf, n, 0, m, 0, n)
	*e = epilogue{}
	return true
}

// gradOwned is the product of matMulColumnSum for a lone model, cut by
// owner (dw's rows are the layer's inputs). It reports false, doing
// nothing, where the layer is not cut.
func (b *Backend) gradOwned(dw, x, dy *Tensor) bool {
	a := &b.args // m: dw's rows, k: the batch
	if dw.models != 1 || !cutByOwner(a.k, a.n, a.m) {
		return false
	}
	parts := ownerParts(a.m)
	j := ownedJobs.Get().(*ownedJob)
	*j = ownedJob{f: ownedGrad, parts: parts, rows: a.m, x: x.fm(0), dy: dy.fm(0), dw: dw.fm(0), m: a.k, n: a.n}
	j.run()
	b.noteOwned(ownedRows{root: dw.root, off: dw.off, rows: a.m, n: a.n, parts: parts})
	return true
}

// ownedRows records that rows … of a weight gradient, elements off … of
// its storage, were cut by owner into parts, so that the update of the
// storage they live in (the optimizers update all of a model's
// parameters at once) cuts them the same way.
type ownedRows struct {
	root                *Tensor
	off, rows, n, parts int
}

// noteOwned records r unless its storage has a record already (one layer
// a storage: the first wide one).
func (b *Backend) noteOwned(r ownedRows) {
	for _, o := range b.owned {
		if o.root == r.root {
			return
		}
	}
	b.owned = append(b.owned, r)
}

// forgetOwned drops the record of a freed storage.
func (b *Backend) forgetOwned(root *Tensor) {
	for i, o := range b.owned {
		if o.root == root {
			b.owned = append(b.owned[:i], b.owned[i+1:]...)
			return
		}
	}
}

// ownedOf returns the record of g's storage, if the whole storage is g.
func (b *Backend) ownedOf(g *Tensor) (ownedRows, bool) {
	if g.models != 1 || g.off != 0 {
		return ownedRows{}, false
	}
	for _, o := range b.owned {
		if o.root == g.root && o.parts == ownerParts(o.rows) && o.off+o.rows*o.n <= g.rows*g.cols {
			return o, true
		}
	}
	return ownedRows{}, false
}

// ownedRange calls f on the elements part c of o's storage updates: part
// c ≥ 1 its rows, part 0 its own rows and every element outside the layer.
func (o ownedRows) ownedRange(c, total int, f func(lo, hi int)) {
	lo := o.off + ownerBound(o.rows, o.parts, c)*o.n
	hi := o.off + ownerBound(o.rows, o.parts, c+1)*o.n
	if c > 0 {
		f(lo, hi)
		return
	}
	f(0, hi)
	if end := o.off + o.rows*o.n; end < total {
		f(end, total)
	}
}

// update runs body, an optimizer's update of model k on a range of
// elements, on all of g's elements: cut by owner where g's weight rows
// were (ownedUpdate), else in one call.
func (b *Backend) update(g *Tensor, k int, body func(b *Backend, k, lo, hi int)) {
	if !b.ownedUpdate(g, k, body) {
		body(b, k, 0, g.rows*g.cols)
	}
}

// ownedUpdate runs body on all of model k's elements of g cut by owner as
// g's weight rows were cut, and reports whether it did (false: a model of
// an array, or g not cut).
func (b *Backend) ownedUpdate(g *Tensor, k int, body func(b *Backend, k, lo, hi int)) bool {
	if k != 0 {
		return false
	}
	o, ok := b.ownedOf(g)
	if !ok {
		return false
	}
	j := ownedJobs.Get().(*ownedJob)
	*j = ownedJob{f: ownedOptimizer, parts: o.parts, rows: o.rows, b: b, body: body, own: o, m: g.rows * g.cols}
	j.run()
	return true
}

// ownedOptimizer is chunk c of an optimizer's update (see ownedRange).
func ownedOptimizer(j *ownedJob, _, _, c int) {
	j.own.ownedRange(c, j.m, func(lo, hi int) { j.body(j.b, 0, lo, hi) })
}
