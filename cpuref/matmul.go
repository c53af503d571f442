package cpuref

import (
	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/internal/gemm"
)

// MatMul sets c = op(a)·op(b), where op(a) is m×k, op(b) is k×n and c is
// m×n, in float64 on the tensors' own storage (transposes are handled by
// the product's packing, nothing else is copied). It panics on a shape
// mismatch, a non-Float tensor, or c aliasing a or b.
//
// The product is package internal/gemm's blocked Dgemm (an AVX2/FMA kernel
// on amd64, on all GOMAXPROCS threads), checked there against a textbook
// loop; a row's result never depends on the other rows (batch invariance).
// It allocates nothing per call once its packing buffers are warm, except
// for products large enough to be split over goroutines.
func (b *Backend) MatMul(c, a, bt backend.Tensor, transA, transB bool) {
	m, k, n := backend.CheckMatMul(c, a, bt, transA, transB)
	ta, tb, tc := b.tensor(a, "MatMul"), b.tensor(bt, "MatMul"), b.tensor(c, "MatMul")
	for i := range tc.models {
		gemm.Dgemm(transA, transB, m, n, k, ta.fm(i), ta.cols, tb.fm(i), tb.cols, tc.fm(i), n)
	}
}

// ColumnSum sets the 1×n dst to the sum of the rows of the m×n src (the bias
// gradient), summing in row order. It panics if dst is not 1×n or either
// tensor is not Float.
func (b *Backend) ColumnSum(dst, src backend.Tensor) {
	backend.CheckColumnSum(dst, src)
	td, ts := b.tensor(dst, "ColumnSum"), b.tensor(src, "ColumnSum")
	for k := range td.models {
		d, s := td.fm(k), ts.fm(k)
		n := len(d)
		copy(d, s[:n])
		for off := n; off < len(s); off += n {
			for j, v := range s[off : off+n] {
				d[j] += v
			}
		}
	}
}

// MatMulColumnSum sets dw = xᵀ·dy and db to the column sums of dy (x m×k,
// dy m×n, dw k×n, db 1×n): MatMul with transA then ColumnSum, with exactly
// their arithmetic. It panics on a shape mismatch, a non-Float tensor, or an
// output aliasing an input or the other output.
func (b *Backend) MatMulColumnSum(dw, db, x, dy backend.Tensor) {
	backend.CheckMatMulColumnSum(dw, db, x, dy)
	b.MatMul(dw, x, dy, true, false)
	b.ColumnSum(db, dy)
}
