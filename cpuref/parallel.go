package cpuref

import (
	"sync"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/internal/par"
)

// Elementwise operations over the cores
//
// An elementwise operation on one model (bias and activation, the
// activation's derivative, the SGD update, the gather of a minibatch) runs
// on the calling goroutine alone unless it has at least twice its grain of
// elements; then its rows are cut into chunks that package par's
// long-lived workers and the caller claim. Each element's arithmetic is
// the same whichever chunk it falls in, so results do not depend on the
// number of processors (TestProcsInvariance). Nothing is allocated per
// call: the operands travel in a pooled span.
//
// The grains are the elements below which a second goroutine did not pay,
// measured with BenchmarkSplit (each size on one goroutine and split over
// two, interleaved) on a 2-core AMD EPYC (Zen 5) shared with other work:
// see docs/bench-cpu-gemm.md.
var (
	// expGrain: an exp per element (sigmoid, tanh), 3–5 ns each.
	expGrain = 16384
	// cheapGrain: a few flops or a copy per element (relu, identity, the
	// derivative, SGD, the gather), bound by memory more than by the core.
	cheapGrain = 65536
)

// span is one elementwise operation cut into chunks of rows: f(s, lo, hi)
// does rows lo … hi−1.
type span struct {
	f      func(s *span, lo, hi int)
	y, x   []float64
	act    backend.Activation
	lr     float64
	rows   int
	chunks int
	src    *Tensor // gather: source, model, indices, offset and scale
	model  int
	ix     []uint32
	offset int
	scale  float64
}

// Chunk runs chunk c of the span's rows.
func (s *span) Chunk(c int) { s.f(s, s.rows*c/s.chunks, s.rows*(c+1)/s.chunks) }

var spans = sync.Pool{New: func() any { return new(span) }}

// chunksPer is the chunks per goroutine: a worker that the scheduler wakes
// late leaves at most a quarter of its share to the caller.
const chunksPer = 4

// splits reports how many goroutines an operation on rows rows of cols
// elements each with the given grain runs on: 1 below twice the grain.
func splits(rows, cols, grain int) int {
	return max(1, min(par.Workers(), rows*cols/max(grain, 1), rows))
}

// run does s over its rows on g ≥ 2 goroutines, then puts s back.
func (s *span) run(g int) {
	s.chunks = min(s.rows, chunksPer*g)
	par.Do(s, s.chunks)
	*s = span{}
	spans.Put(s)
}

// newSpan returns a cleared span for rows rows done by f.
func newSpan(f func(s *span, lo, hi int), rows int) *span {
	s := spans.Get().(*span)
	s.f, s.rows = f, rows
	return s
}
