package cpuref

import (
	"github.com/gputrain/gputrain/backend"
)

// MatMul sets c = op(a)·op(b), where op(a) is m×k, op(b) is k×n and c is
// m×n, in float64 on the tensors' own storage (transposes are handled by
// the product's packing, nothing else is copied). It panics on a shape
// mismatch, a non-Float tensor, or c aliasing a or b.
//
// The product is package internal/gemm's blocked Dgemm (an AVX-512 or
// AVX2/FMA kernel on amd64; split over the cores by package
// internal/par's workers above a measured amount of work), checked there
// against a textbook loop; a row's result never depends on the other rows
// (batch invariance) nor on the number of processors. It allocates nothing
// per call once its packing buffers are warm.
func (b *Backend) MatMul(c, a, bt backend.Tensor, transA, transB bool) {
	m, k, n := backend.CheckMatMul(c, a, bt, transA, transB)
	ta, tb, tc := b.tensor(a, "MatMul"), b.tensor(bt, "MatMul"), b.tensor(c, "MatMul")
	b.args = opArgs{t: [6]*Tensor{tc, ta, tb}, transA: transA, transB: transB, m: m, n: n, k: k}
	b.forModels(tc.models, matMulModels)
}

// ColumnSum sets the 1×n dst to the sum of the rows of the m×n src (the bias
// gradient), summing in row order. It panics if dst is not 1×n or either
// tensor is not Float.
func (b *Backend) ColumnSum(dst, src backend.Tensor) {
	backend.CheckColumnSum(dst, src)
	td, ts := b.tensor(dst, "ColumnSum"), b.tensor(src, "ColumnSum")
	b.args = opArgs{t: [6]*Tensor{td, ts}}
	b.forModels(td.models, columnSumModels)
}

// MatMulColumnSum sets dw = xᵀ·dy and db to the column sums of dy (x m×k,
// dy m×n, dw k×n, db 1×n): MatMul with transA then ColumnSum, with exactly
// their arithmetic. It panics on a shape mismatch, a non-Float tensor, or an
// output aliasing an input or the other output.
func (b *Backend) MatMulColumnSum(dw, db, x, dy backend.Tensor) {
	m, k, n := backend.CheckMatMulColumnSum(dw, db, x, dy)
	const op = "MatMulColumnSum"
	tw, tb, tx, ty := b.tensor(dw, op), b.tensor(db, op), b.tensor(x, op), b.tensor(dy, op)
	// The product is k×m·m×n with x stored m×k (transA).
	b.args = opArgs{t: [6]*Tensor{tw, tb, tx, ty}, m: k, n: n, k: m}
	b.forModels(tw.models, matMulColumnSumModels)
}
