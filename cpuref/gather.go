package cpuref

import (
	"fmt"

	"github.com/gputrain/gputrain/backend"
)

// Gather sets row i of the m×n dst to scale·src[idx[offset+i]], for the
// Index tensor idx (any shape, read as a flat list) and a Float or Byte src
// with n columns. It panics if offset+m exceeds the number of indices, an
// index is outside src's rows, or a tensor has the wrong type or shape.
func (b *Backend) Gather(dst, src, idx backend.Tensor, offset int, scale float64) {
	backend.CheckGather(dst, src, idx, offset)
	td, ts, ti := b.tensor(dst, "Gather"), b.tensor(src, "Gather"), b.tensor(idx, "Gather")
	b.args = opArgs{t: [6]*Tensor{td, ts, ti}, offset: offset, scale: scale}
	b.forModels(td.models, gatherModels)
}

// gatherModel is Gather of model k into df, on the calling goroutine: with
// the vector conversion it is bound by memory, and split over two
// goroutines it was slower at every size measured, up to 4M elements
// (BenchmarkSplit, docs/bench-cpu-gemm.md).
func gatherModel(df []float64, ts *Tensor, k int, ix []uint32, offset int, scale float64) {
	gatherRows(df, ts, k, ix, offset, scale, 0, len(ix))
}

// gatherRows is gatherModel on rows lo … hi−1 of df.
func gatherRows(df []float64, ts *Tensor, k int, ix []uint32, offset int, scale float64, lo, hi int) {
	gatherBlock(df, ts, k, ix, offset, scale, lo, hi, 0, ts.cols)
}

// gatherBlock is gatherModel on rows lo … hi−1 and columns c0 … c1−1 of
// df: each element's arithmetic is the same whatever block it is in.
func gatherBlock(df []float64, ts *Tensor, k int, ix []uint32, offset int, scale float64, lo, hi, c0, c1 int) {
	n := ts.cols
	for i := lo; i < hi; i++ {
		r := ix[i]
		if int(r) >= ts.rows {
			panicIndex(r, offset+i, ts.rows)
		}
		row, off := df[i*n+c0:i*n+c1], int(r)*n
		if ts.dtype == backend.Byte {
			src, j0 := ts.um(k)[off+c0:off+c1], 0
			if vectorElem && len(row) >= 8 {
				j0 = len(row) &^ 7
				bytesToFloats8(&row[0], &src[0], j0, scale)
			}
			for j := j0; j < len(row); j++ {
				row[j] = float64(src[j]) * scale
			}
		} else {
			for j, v := range ts.fm(k)[off+c0 : off+c1] {
				row[j] = v * scale
			}
		}
	}
}

// panicIndex panics for index r, idx[i], outside the rows of src.
func panicIndex(r uint32, i, rows int) {
	panic(fmt.Sprintf("cpuref: Gather: index %d (idx[%d]) outside the %d rows of src", r, i, rows))
}

// Fill sets every element of the Float tensor t to v. It panics if t is not
// Float.
func (b *Backend) Fill(t backend.Tensor, v float64) {
	backend.CheckSame("Fill", t)
	tt := b.tensor(t, "Fill")
	for k := range tt.models {
		f := tt.fm(k)
		for i := range f {
			f[i] = v
		}
	}
}
