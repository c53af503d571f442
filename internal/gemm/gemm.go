// Package gemm multiplies float64 matrices for the CPU backend.
//
// Dgemm computes C = op(A)·op(B) by one of two register-blocked paths.
//
// Where the processor has AVX-512F, the wide path (wide.go): an 8×16
// micro-kernel in 16 ZMM accumulators reads op(A) in place through its two
// strides, so neither transpose of A is copied, and reads an untransposed
// B in place too; only a transposed B (once, all of it) and the partial
// edge panels are packed. The small, skinny products of a small network
// spend nothing on packing this way.
//
// Elsewhere, the packed path of Goto and van de Geijn (the one BLIS and
// OpenBLAS use): op(B) is copied in blocks of kc×nc into panels nr columns
// wide, op(A) in blocks of mc×kc into panels mr rows high, and a micro-kernel
// multiplies one A panel by one B panel into an mr×nr tile of C. When C has
// only a few rows, an untransposed B is read in place instead. On amd64
// with AVX2 and FMA its micro-kernel is assembly (6×8 doubles in twelve YMM
// accumulators); elsewhere (and under the purego build tag) it is Go.
//
// DgemmEpilogue hands each block of C to an Epilogue as soon as the block's
// last multiply-adds are done (a row panel of a column block on the wide
// path, an A block's rows on the packed one), so a layer's bias,
// activation and dropout, or its activation's derivative, are applied
// while the block is still in cache and no second pass over C is made.
//
// Products with fewer than nr columns (an output layer, a matrix-vector
// product) are dot products or sums of rows (thin), in AVX2 loops on amd64.
// Both paths split C over up to GOMAXPROCS goroutines only above a measured
// amount of work (parallelMACs, wideParallelMACs).
//
// Every element of C is a float64 sum of k products whose order and
// rounding depend only on k, the transposes and whether C has fewer than nr
// columns — never on m, on the other rows, on how C is split over
// goroutines, on the path or on the processor's vector width: every
// micro-kernel, assembly or Go, does one fused multiply-add per term in
// the same order over each kc-deep block, and adds the blocks into C in
// order; thin's vector loops multiply and add as its Go loops do. So a row
// of a batch gets the same bits whatever batch it is in, which keeps
// predictions independent of the batch size. The order differs from
// gonum's and from a textbook loop, so results agree with those to within
// k·ε·Σ|aᵢₚbₚⱼ|, not bit for bit.
package gemm

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/gputrain/gputrain/internal/par"
)

// Block sizes. The micro-kernel's tile is mr×nr; an A block (mc×kc,
// 216 KiB) stays in L2 and a B micro-panel (kc×nr, 24 KiB) in L1. kc = 384
// keeps a 360-sample batch's weight gradient (k = 360) in one block.
const (
	mr = 6
	nr = 8
	kc = 384
	mc = 72
	nc = 4080
)

// directRows is the most rows of C for which an untransposed B is read in
// place rather than packed: packing B costs about as much as a product
// with a few rows of A, and is repaid only when the panels are reused.
const directRows = 4 * mr

// Dgemm sets the m×n row-major c (row stride ldc) to op(A)·op(B), where
// op(A) is m×k and op(B) is k×n. A is stored row-major with row stride lda:
// it is m×k, or k×m if transA (op(A) = Aᵀ); likewise B is k×n, or n×k if
// transB. c must not overlap a or b.
//
// Dgemm panics if a dimension is negative, a stride is smaller than the
// row length it strides, or a slice is too short for its shape.
func Dgemm(transA, transB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	DgemmEpilogue(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, nil)
}

// Epilogue finishes C block by block, as soon as a block's last
// multiply-adds are done and it is still in cache: the bias, activation
// and dropout of a layer's forward pass, the activation's derivative of
// its backward pass.
type Epilogue interface {
	// Finish is called once for every element of C, a block at a time:
	// rows i0 … i1−1 and columns j0 … j1−1 of C, element (i, j) at
	// c[i*ldc+j], holding its final product. j0 is a multiple of 8 and
	// j1 a multiple of 8 or n; blocks never overlap, and Finish may run
	// on several goroutines at once for different blocks.
	Finish(c []float64, ldc, i0, i1, j0, j1 int)
}

// DgemmEpilogue is Dgemm followed by e.Finish over all of C (e may be
// nil), with Finish called on each block of C as soon as its product is
// done rather than in a second pass: the result is the same as calling
// Finish(c, ldc, 0, m, 0, n) after Dgemm whenever Finish's result for an
// element depends only on the elements of its row that share its aligned
// group of eight columns. It allocates nothing and panics as Dgemm does.
func DgemmEpilogue(transA, transB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, e Epilogue) {
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMatrix("a", ar, ac, a, lda)
	checkMatrix("b", br, bc, b, ldb)
	checkMatrix("c", m, n, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	switch {
	case k == 0:
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
	case n < nr:
		thin(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	case useWide:
		wide(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, e)
		return
	default:
		packed(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, e)
		return
	}
	if e != nil {
		e.Finish(c, ldc, 0, m, 0, n)
	}
}

// thin computes a product with fewer than nr columns (a network's output
// layer, a matrix-vector product) one column of C at a time, as dot
// products of A's rows, or as a sum of A's rows scaled by op(B)'s column
// when A is transposed (gonum's Dgemm does these one multiply-add per call).
func thin(transA, transB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	// op(B)[p][j] is b[p*sp+j*sj].
	sp, sj := ldb, 1
	if transB {
		sp, sj = 1, ldb
	}
	for j := range n {
		bj := b[j*sj:]
		if !transA {
			i0 := 0
			if useThinAsm && sp == 1 {
				// Four rows at a time, the four partial sums of each a
				// vector's lanes; the tail and the final sum as below.
				k4 := k &^ 3
				var s [16]float64
				for ; i0+4 <= m; i0 += 4 {
					_ = a[(i0+3)*lda+k-1]
					thinDot4(k4, &a[i0*lda], lda, &bj[0], &s)
					for r := range 4 {
						row := a[(i0+r)*lda : (i0+r)*lda+k]
						s0, s1, s2, s3 := s[4*r], s[4*r+1], s[4*r+2], s[4*r+3]
						for p := k4; p < k; p++ {
							s0 += row[p] * bj[p]
						}
						c[(i0+r)*ldc+j] = (s0 + s1) + (s2 + s3)
					}
				}
			}
			for i := i0; i < m; i++ {
				row := a[i*lda : i*lda+k]
				var s0, s1, s2, s3 float64
				p := 0
				for ; p+4 <= k; p += 4 {
					s0 += row[p] * bj[p*sp]
					s1 += row[p+1] * bj[(p+1)*sp]
					s2 += row[p+2] * bj[(p+2)*sp]
					s3 += row[p+3] * bj[(p+3)*sp]
				}
				for ; p < k; p++ {
					s0 += row[p] * bj[p*sp]
				}
				c[i*ldc+j] = (s0 + s1) + (s2 + s3)
			}
			continue
		}
		i0 := 0
		if useThinAsm {
			// Sixteen columns of A at a time, summed in registers in the
			// order of the loop below.
			var s [16]float64
			_ = bj[(k-1)*sp]
			for ; i0+16 <= m; i0 += 16 {
				_ = a[(k-1)*lda+i0+15]
				thinAxpy16(k, &bj[0], sp, &a[i0], lda, &s[0])
				for r, v := range s {
					c[(i0+r)*ldc+j] = v
				}
			}
			if i0 == m {
				continue
			}
		}
		for i := i0; i < m; i++ {
			c[i*ldc+j] = 0
		}
		for p := range k {
			x := bj[p*sp]
			row := a[p*lda+i0 : p*lda+m]
			if ldc == 1 {
				col := c[i0:m]
				for i, v := range row {
					col[i] += x * v
				}
				continue
			}
			for i, v := range row {
				c[(i0+i)*ldc+j] += x * v
			}
		}
	}
}

func checkMatrix(name string, r, c int, s []float64, ld int) {
	switch {
	case r < 0 || c < 0:
		panic(fmt.Sprintf("gemm: %s is %d×%d: negative dimension", name, r, c))
	case ld < max(c, 1):
		panic(fmt.Sprintf("gemm: %s is %d×%d: stride %d is less than its %d columns", name, r, c, ld, c))
	case r > 0 && c > 0 && len(s) < (r-1)*ld+c:
		panic(fmt.Sprintf("gemm: %s is %d×%d with stride %d: needs %d elements, has %d", name, r, c, ld, (r-1)*ld+c, len(s)))
	}
}

// packed runs the five loops around the micro-kernel.
func packed(transA, transB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, e Epilogue) {
	w := newWork(m, m*n*k)
	defer w.release()
	direct := !transB && m <= directRows
	j := &w.job
	*j = job{transA: transA, a: a, lda: lda, ldc: ldc, c0: c}
	for jc := 0; jc < n; jc += nc {
		j.jc, j.ncur = jc, min(nc, n-jc)
		j.c = c[jc:]
		for pc := 0; pc < k; pc += kc {
			j.pc, j.kcur = pc, min(kc, k-pc)
			if pc+j.kcur == k {
				j.epi = e // the last block: C is final tile by tile
			}
			if direct {
				j.blk = bBlock{data: b[pc*ldb+jc:], step: nr, stride: ldb}
				if e := j.ncur % nr; e != 0 {
					// The last, partial panel is packed with zero padding.
					packB(w.bp, false, b, ldb, pc, j.kcur, jc+j.ncur-e, e)
					j.blk.edge = w.bp[:j.kcur*nr]
				}
			} else {
				packB(w.bp, transB, b, ldb, pc, j.kcur, jc, j.ncur)
				j.blk = bBlock{data: w.bp, step: nr * j.kcur, stride: nr}
			}
			w.run()
		}
	}
	*j = job{} // drop the references to the caller's slices
}

// job is one kc-deep slice of a product, for rows i0..i1 of C.
type job struct {
	transA   bool
	a        []float64
	lda      int
	pc, kcur int
	ncur     int
	blk      bBlock
	c        []float64 // C from the current column block on
	ldc      int
	c0       []float64 // all of C, for the epilogue
	jc       int       // the current column block's first column
	epi      Epilogue  // set for the last kc block only
}

func (j *job) rows(ap []float64, i0, i1 int) {
	for ic := i0; ic < i1; ic += mc {
		mcur := min(mc, i1-ic)
		packA(ap, j.transA, j.a, j.lda, ic, mcur, j.pc, j.kcur)
		macro(ap, &j.blk, mcur, j.ncur, j.kcur, j.c[ic*j.ldc:], j.ldc, j.pc > 0)
		if j.epi != nil {
			// The mcur×ncur block is final and still in cache (mc·ncur
			// values at most, one A block's rows).
			j.epi.Finish(j.c0, j.ldc, ic, ic+mcur, j.jc, j.jc+j.ncur)
		}
	}
}

// bBlock is a kcur×ncur block of op(B) as panels of nr columns: panel q
// starts at data[q*step:] and its rows are stride apart. If edge is not nil
// it holds the last panel instead (packed, stride nr), which is then
// partial and padded with zeros.
type bBlock struct {
	data         []float64
	step, stride int
	edge         []float64
}

// work holds the packing buffers, the split of C's rows over goroutines
// and the job they share.
type work struct {
	bp     []float64   // packed B block, shared
	ap     [][]float64 // packed A block, one per goroutine
	bounds []int       // row ranges: goroutine g owns rows bounds[g]..bounds[g+1]
	job    job
}

var pool = sync.Pool{New: func() any { return new(work) }}

// parallelMACs is the fewest multiply-adds a goroutine of the packed path
// is given: a product of fewer than 2·parallelMACs (2²⁵) runs on the
// calling goroutine alone, as on the wide path. Measured with
// BenchmarkThreads (-count 6) on the 2-core AMD EPYC (Zen 5) with its other
// core busy (load average 2.5–2.9), the packed split was slower by the
// minimum at every size from 2²⁰ to 10⁸ multiply-adds (1.01–1.28x), within
// 1.01–1.06 from 2²⁵; the threshold is the wide path's, where a split paid
// from 2²⁵ in every run (wideParallelMACs).
var parallelMACs = 1 << 24

func newWork(m, macs int) *work {
	w := pool.Get().(*work)
	// Split the rows into at most GOMAXPROCS ranges of whole mr-row panels,
	// none smaller than two panels or parallelMACs multiply-adds, so that
	// each goroutine has work enough to pay for its start.
	panels := (m + mr - 1) / mr
	g := max(1, min(runtime.GOMAXPROCS(0), panels/2, macs/parallelMACs))
	w.bounds = w.bounds[:0]
	for i := 0; i <= g; i++ {
		w.bounds = append(w.bounds, min(m, (panels*i/g)*mr))
	}
	if need := kc * nc; cap(w.bp) < need {
		w.bp = make([]float64, need)
	}
	w.bp = w.bp[:cap(w.bp)]
	for len(w.ap) < g {
		w.ap = append(w.ap, nil)
	}
	for i := range g {
		if need := mc * kc; cap(w.ap[i]) < need {
			w.ap[i] = make([]float64, need)
		}
		w.ap[i] = w.ap[i][:cap(w.ap[i])]
	}
	return w
}

func (w *work) release() { pool.Put(w) }

// run does w.job for each row range, concurrently (package par) when
// there are several, each with its own A packing buffer.
func (w *work) run() {
	if g := len(w.bounds) - 1; g > 1 {
		par.Do(w, g)
		return
	}
	w.job.rows(w.ap[0], w.bounds[0], w.bounds[1])
}

// Chunk does w.job for row range i.
func (w *work) Chunk(i int) { w.job.rows(w.ap[i], w.bounds[i], w.bounds[i+1]) }

// packB copies rows pc..pc+kcur and columns jc..jc+ncur of op(B) into bp as
// panels of nr columns, each stored p-major (nr values per p), the last one
// padded with zeros.
//
// packB and packA are mirrors (packB without transB is packA with transA,
// and the other way round), kept apart so that each full panel is written
// through a fixed-size array, unrolled: one generic pack with the panel
// width as a parameter measured 15–25 % slower on the products that pack
// from strided rows (seed forward and dX shapes).
func packB(bp []float64, transB bool, b []float64, ldb, pc, kcur, jc, ncur int) {
	for j0 := 0; j0 < ncur; j0 += nr {
		dst := bp[j0*kcur : j0*kcur+nr*kcur]
		cols := min(nr, ncur-j0)
		if !transB {
			for p := range kcur {
				row := b[(pc+p)*ldb+jc+j0:]
				d := dst[p*nr : p*nr+nr]
				if cols == nr {
					copy(d, row[:nr])
					continue
				}
				copy(d, row[:cols])
				clear(d[cols:])
			}
			continue
		}
		// op(B)[p][j] = B[j][p]: column j of the panel is row jc+j0+j of B.
		if cols == nr {
			var r [nr][]float64
			for j := range r {
				r[j] = b[(jc+j0+j)*ldb+pc:][:kcur]
			}
			for p := range kcur {
				d := (*[nr]float64)(dst[p*nr:])
				d[0], d[1], d[2], d[3] = r[0][p], r[1][p], r[2][p], r[3][p]
				d[4], d[5], d[6], d[7] = r[4][p], r[5][p], r[6][p], r[7][p]
			}
			continue
		}
		for j := range cols {
			row := b[(jc+j0+j)*ldb+pc:]
			for p := range kcur {
				dst[p*nr+j] = row[p]
			}
		}
		for j := cols; j < nr; j++ {
			for p := range kcur {
				dst[p*nr+j] = 0
			}
		}
	}
}

// packA copies rows ic..ic+mcur and columns pc..pc+kcur of op(A) into ap as
// panels of mr rows, each stored p-major (mr values per p), the last one
// padded with zeros.
func packA(ap []float64, transA bool, a []float64, lda, ic, mcur, pc, kcur int) {
	for i0 := 0; i0 < mcur; i0 += mr {
		dst := ap[i0*kcur : i0*kcur+mr*kcur]
		rows := min(mr, mcur-i0)
		if transA {
			// op(A)[i][p] = A[p][i]: mr consecutive values of row pc+p of A.
			for p := range kcur {
				row := a[(pc+p)*lda+ic+i0:]
				d := dst[p*mr : p*mr+mr]
				copy(d, row[:rows])
				clear(d[rows:])
			}
			continue
		}
		if rows == mr {
			// Six rows read side by side, the panel written in order.
			r0 := a[(ic+i0)*lda+pc:][:kcur]
			r1 := a[(ic+i0+1)*lda+pc:][:kcur]
			r2 := a[(ic+i0+2)*lda+pc:][:kcur]
			r3 := a[(ic+i0+3)*lda+pc:][:kcur]
			r4 := a[(ic+i0+4)*lda+pc:][:kcur]
			r5 := a[(ic+i0+5)*lda+pc:][:kcur]
			for p := range kcur {
				d := (*[mr]float64)(dst[p*mr:])
				d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
			}
			continue
		}
		for i := range rows {
			row := a[(ic+i0+i)*lda+pc:]
			for p := range kcur {
				dst[p*mr+i] = row[p]
			}
		}
		for i := rows; i < mr; i++ {
			for p := range kcur {
				dst[p*mr+i] = 0
			}
		}
	}
}

// macro multiplies the packed mcur×kcur A block by the kcur×ncur B block
// into c (row stride ldc), adding to c if accumulate, else overwriting it.
// Edge tiles are computed in full into a scratch tile, then copied, so they
// get the same arithmetic as whole ones.
func macro(ap []float64, blk *bBlock, mcur, ncur, kcur int, c []float64, ldc int, accumulate bool) {
	var edge [mr * nr]float64
	for j0 := 0; j0 < ncur; j0 += nr {
		bpan, bst := blk.data[j0/nr*blk.step:], blk.stride
		cols := min(nr, ncur-j0)
		if cols < nr && blk.edge != nil {
			bpan, bst = blk.edge, nr
		}
		for i0 := 0; i0 < mcur; i0 += mr {
			apan := ap[i0*kcur : i0*kcur+mr*kcur]
			rows := min(mr, mcur-i0)
			if rows == mr && cols == nr {
				kernel(kcur, apan, bpan, bst, c[i0*ldc+j0:], ldc, accumulate)
				continue
			}
			kernel(kcur, apan, bpan, bst, edge[:], nr, false)
			for i := range rows {
				d := c[(i0+i)*ldc+j0 : (i0+i)*ldc+j0+cols]
				s := edge[i*nr : i*nr+cols]
				if accumulate {
					for j, v := range s {
						d[j] += v
					}
				} else {
					copy(d, s)
				}
			}
		}
	}
}

// kernelGo is the portable micro-kernel: the mr×nr tile c (row stride ldc)
// is set to, or if accumulate increased by, the product of the packed A
// panel ap (kcur×mr, p-major) and the B panel bp (kcur×nr, rows ldb apart).
func kernelGo(kcur int, ap, bp []float64, ldb int, c []float64, ldc int, accumulate bool) {
	var acc [mr][nr]float64
	ap = ap[:kcur*mr]
	for p := range kcur {
		bv := (*[nr]float64)(bp[p*ldb:])
		av := (*[mr]float64)(ap[p*mr:])
		for i, x := range av {
			r := &acc[i]
			for j, y := range bv {
				r[j] = math.FMA(x, y, r[j]) // rounds once, as the assembly does
			}
		}
	}
	for i := range mr {
		d := c[i*ldc : i*ldc+nr]
		if accumulate {
			for j, v := range acc[i] {
				d[j] += v
			}
		} else {
			copy(d, acc[i][:])
		}
	}
}

// BlockK is the depth of the blocks a product's sums are taken in: every
// element of C is the sum, in order, of the partial products over k
// indices [0, BlockK), [BlockK, 2·BlockK), …, each a chain of fused
// multiply-adds from zero, when C has at least MinBlockedCols columns. A
// product over one block's k indices alone (its A columns and B rows)
// gives that block's partial product with the same bits, so a product can
// be cut along k at multiples of BlockK and its parts added in order.
const BlockK = kc

// MinBlockedCols is the fewest columns of C for which the sums are taken
// in blocks of BlockK (narrower products are dot products over all of k).
const MinBlockedCols = nr

// Splits reports whether Dgemm spreads an m×n×k product over more than
// one goroutine (when GOMAXPROCS allows).
func Splits(m, n, k int) bool {
	t := parallelMACs
	if useWide {
		t = wideParallelMACs
	}
	return m*n*k >= 2*t
}
