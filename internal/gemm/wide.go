package gemm

import (
	"math"
	"runtime"
	"sync"

	"github.com/gputrain/gputrain/internal/par"
)

// The wide path, for processors with AVX-512F: an 8×16 micro-kernel that
// reads A in place through its two strides (row i, step p at
// a[i·rsa+p·csa]), so neither transpose of A is packed, and reads an
// untransposed B in place too (16 consecutive values a row). Only a
// transposed B (packed once, all of it, into panels of 16 columns) and the
// edges — the last, partial panel of rows or of columns, packed with zero
// padding — are copied. The arithmetic is the packed path's: each element
// is a chain of fused multiply-adds in p order over each kc-deep block,
// the blocks added into C in order, so both paths (and the Go and assembly
// kernels of each) give the same bits.
const (
	zr = 8  // rows of the wide tile
	zc = 16 // columns of the wide tile
	// zn is the columns of op(B) one sweep over the row panels uses: a
	// kc×zn block (384 KiB) stays in L2 while the A panels stream past.
	zn = 128
)

// useWide selects the wide path; tests switch it off to compare the paths.
var useWide = hasAVX512

// wideWork holds the wide path's buffers and the product they serve.
type wideWork struct {
	transA, transB bool
	m, n, k        int
	a              []float64
	rsa, csa       int
	b              []float64
	ldb            int
	c              []float64
	ldc            int

	bp     []float64 // op(B) packed: all of it if transB, else its last panel
	ae     []float64 // op(A)'s last rows, packed k×zr, zero padded
	byCols bool      // a split is by columns, not rows
	epi    Epilogue  // finishes each tile after its last kc block, or nil

	chunks, panels, unit, end int // a split's chunks (see Chunk)
}

var widePool = sync.Pool{New: func() any { return new(wideWork) }}

// wideParallelMACs is the fewest multiply-adds a goroutine is given: a
// product of fewer than 2·wideParallelMACs (2²⁵) runs on the calling
// goroutine alone. Measured with BenchmarkThreads (-count 8, each size on
// one goroutine and split over two through package par's workers,
// interleaved) on the 2-core AMD EPYC (Zen 5, AVX-512) this was written
// on, shared with other work (load average 2.2–2.8). Whether a split pays
// below 2²⁵ depends on whether the other core is free: in one run the
// split was ahead from 2²³ multiply-adds (512×128×128: 0.80 of the time on
// one goroutine, 512×256×128: 0.68), in two others, with the other core
// busy, it was up to 1.5x slower at every size up to 2²⁴ (the MLP's
// 128×784·784×128, 12.8M, 1.01–1.21x). From 2²⁵ (1024×256×128) the split
// was ahead by the median in every run (0.63–0.84), and 1024×128×784
// (10⁸) took 0.57–0.59 of the time. See docs/bench-cpu-gemm.md.
var wideParallelMACs = 1 << 24

func wide(transA, transB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, e Epilogue) {
	w := widePool.Get().(*wideWork)
	w.epi = e
	w.transA, w.transB, w.m, w.n, w.k = transA, transB, m, n, k
	w.a, w.b, w.ldb, w.c, w.ldc = a, b, ldb, c, ldc
	w.rsa, w.csa = lda, 1
	if transA {
		w.rsa, w.csa = 1, lda
	}
	npan := (n + zc - 1) / zc
	if transB {
		w.bp = grow(w.bp, npan*zc*k)
		for q := range npan {
			packBT(w.bp[q*zc*k:(q+1)*zc*k], b, ldb, k, q*zc, min(zc, n-q*zc))
		}
	} else if e := n % zc; e != 0 {
		w.bp = grow(w.bp, zc*k)
		dst := w.bp[:zc*k]
		for p := range k {
			d := dst[p*zc : p*zc+zc]
			copy(d, b[p*ldb+n-e:p*ldb+n])
			clear(d[e:])
		}
	}
	if e := m % zr; e != 0 {
		w.ae = grow(w.ae, zr*k)
		for p := range k {
			d := w.ae[p*zr : p*zr+zr]
			for i := range e {
				d[i] = a[(m-e+i)*w.rsa+p*w.csa]
			}
			clear(d[e:])
		}
	}

	// Split C into chunks of whole row panels or, when there are fewer
	// row panels than goroutines (a product of a few rows), of whole
	// column panels, which g goroutines claim one at a time. Which tile
	// goes to which goroutine changes no bits.
	panels, unit, size := (m+zr-1)/zr, zr, m
	g := max(1, min(runtime.GOMAXPROCS(0), m*n*k/wideParallelMACs))
	w.byCols = panels < g
	if w.byCols {
		panels, unit, size = (n+zc-1)/zc, zc, n
	}
	g = min(g, panels)
	if g == 1 {
		w.tiles(0, m, 0, n)
	} else {
		w.split(g, panels, unit, size)
	}
	w.a, w.b, w.c, w.epi = nil, nil, nil, nil // drop the references to the caller's slices and epilogue
	widePool.Put(w)
}

// split hands the chunks of C to g goroutines through package par.
func (w *wideWork) split(g, panels, unit, end int) {
	w.chunks, w.panels, w.unit, w.end = min(panels, par.ChunksPerWorker*g), panels, unit, end
	par.Do(w, w.chunks)
}

// Chunk computes chunk c of a split product: units panels·c/chunks up to
// panels·(c+1)/chunks of C's rows or columns.
func (w *wideWork) Chunk(c int) {
	lo := min(w.end, w.panels*c/w.chunks*w.unit)
	hi := min(w.end, w.panels*(c+1)/w.chunks*w.unit)
	if w.byCols {
		w.tiles(0, w.m, lo, hi)
	} else {
		w.tiles(lo, hi, 0, w.n)
	}
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// panel returns op(B)'s panel of columns j..j+zc from step p on, and its
// row stride.
func (w *wideWork) panel(j, p int) ([]float64, int) {
	switch {
	case w.transB:
		return w.bp[j*w.k+p*zc:], zc
	case j+zc > w.n:
		return w.bp[p*zc:], zc
	}
	return w.b[p*w.ldb+j:], w.ldb
}

// tiles computes rows i0..i1 and columns j0..j1 of C (i0 a multiple of
// zr, j0 of zc).
func (w *wideWork) tiles(i0, i1, j0, j1 int) {
	var edge [zr * zc]float64
	m, n, ldc := w.m, w.n, w.ldc
	for jc := j0; jc < j1; jc += zn {
		jn := min(jc+zn, j1)
		for pc := 0; pc < w.k; pc += kc {
			kcur := min(kc, w.k-pc)
			acc := pc > 0
			var epi Epilogue
			if pc+kcur == w.k {
				epi = w.epi // the last block: C is final once written
			}
			for i := i0; i < i1; i += zr {
				var ap []float64
				rs, cs := w.rsa, w.csa
				if i+zr <= m {
					ap = w.a[i*w.rsa+pc*w.csa:]
				} else {
					ap, rs, cs = w.ae[pc*zr:], 1, zr
				}
				for j := jc; j < jn; j += zc {
					bp, ldb := w.panel(j, pc)
					if i+zr <= m && j+zc <= n {
						kernelZ(kcur, ap, rs, cs, bp, ldb, w.c[i*ldc+j:], ldc, acc)
						continue
					}
					// An edge tile: computed in full, then the part that
					// is in C copied, so it gets the same arithmetic.
					kernelZ(kcur, ap, rs, cs, bp, ldb, edge[:], zc, false)
					for r := range min(zr, m-i) {
						d := w.c[(i+r)*ldc+j : (i+r)*ldc+min(j+zc, n)]
						s := edge[r*zc : r*zc+len(d)]
						if acc {
							for x, v := range s {
								d[x] += v
							}
						} else {
							copy(d, s)
						}
					}
				}
				if epi != nil {
					// The row panel's zr×zn block is final and in L1.
					epi.Finish(w.c, ldc, i, min(i+zr, m), jc, jn)
				}
			}
		}
	}
}

// packBT packs columns j0..j0+cols of op(B) = Bᵀ (cols ≤ zc), that is rows
// j0.. of B, into dst as k rows of zc values, zero padded.
func packBT(dst, b []float64, ldb, k, j0, cols int) {
	if cols < zc {
		clear(dst)
	}
	for h := 0; h < cols; h += 8 {
		if cols-h >= 8 {
			var r [8][]float64
			for x := range r {
				r[x] = b[(j0+h+x)*ldb:][:k]
			}
			for p := range k {
				d := (*[8]float64)(dst[p*zc+h:])
				d[0], d[1], d[2], d[3] = r[0][p], r[1][p], r[2][p], r[3][p]
				d[4], d[5], d[6], d[7] = r[4][p], r[5][p], r[6][p], r[7][p]
			}
			continue
		}
		for x := h; x < cols; x++ {
			row := b[(j0+x)*ldb:][:k]
			for p, v := range row {
				dst[p*zc+x] = v
			}
		}
	}
}

// kernelZGo is the portable wide micro-kernel: the zr×zc tile c (row
// stride ldc) is set to, or if accumulate increased by, the product of the
// zr×kcur block of A at a (element i, p at a[i*rsa+p*csa]) and the
// kcur×zc block of B at b (rows ldb apart), each element a chain of fused
// multiply-adds in p order from zero, as kernelGo's.
func kernelZGo(kcur int, a []float64, rsa, csa int, b []float64, ldb int, c []float64, ldc int, accumulate bool) {
	var acc [zr][zc]float64
	for p := range kcur {
		bv := (*[zc]float64)(b[p*ldb:])
		for i := range zr {
			x := a[i*rsa+p*csa]
			r := &acc[i]
			for j, y := range bv {
				r[j] = math.FMA(x, y, r[j])
			}
		}
	}
	for i := range zr {
		d := c[i*ldc : i*ldc+zc]
		if accumulate {
			for j, v := range acc[i] {
				d[j] += v
			}
		} else {
			copy(d, acc[i][:])
		}
	}
}
