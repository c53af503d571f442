package cpuref

import (
	"github.com/gputrain/gputrain/backend"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// MatMul sets c = op(a)·op(b), where op(a) is m×k, op(b) is k×n and c is
// m×n, with one blas64.Gemm on the tensors' own storage (transposes are
// passed to Gemm, nothing is copied). It panics on a shape mismatch, a
// non-Float tensor, or c aliasing a or b.
//
// Gemm allocates nothing for products with fewer than four 64×64 blocks of
// c; larger ones run blocks on goroutines, which costs a few small
// allocations per call against at least 2·64·64·4·k flops.
func (b *Backend) MatMul(c, a, bt backend.Tensor, transA, transB bool) {
	m, _, n := backend.CheckMatMul(c, a, bt, transA, transB)
	ta, tb := b.tensor(a, "MatMul"), b.tensor(bt, "MatMul")
	cf := b.floats(c, "MatMul")
	blas64.Gemm(transpose(transA), transpose(transB), 1,
		blas64.General{Rows: ta.rows, Cols: ta.cols, Stride: ta.cols, Data: ta.f},
		blas64.General{Rows: tb.rows, Cols: tb.cols, Stride: tb.cols, Data: tb.f},
		0, blas64.General{Rows: m, Cols: n, Stride: n, Data: cf})
}

func transpose(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// ColumnSum sets the 1×n dst to the sum of the rows of the m×n src (the bias
// gradient), summing in row order. It panics if dst is not 1×n or either
// tensor is not Float.
func (b *Backend) ColumnSum(dst, src backend.Tensor) {
	backend.CheckColumnSum(dst, src)
	d, s := b.floats(dst, "ColumnSum"), b.floats(src, "ColumnSum")
	n := len(d)
	copy(d, s[:n])
	for off := n; off < len(s); off += n {
		for j, v := range s[off : off+n] {
			d[j] += v
		}
	}
}
