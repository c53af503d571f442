package cpuref

import (
	"sync"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/internal/par"
)

// Elementwise operations over the cores
//
// An elementwise operation on one model (bias and activation, the
// activation's derivative, the SGD update) runs on the calling goroutine
// alone unless it has at least twice its grain of elements; then its rows
// are cut into chunks that package par's long-lived workers and the caller
// claim. Each element's arithmetic is the same whichever chunk it falls
// in, so results do not depend on the number of processors
// (TestProcsInvariance). Nothing is allocated per call: the operands
// travel in a pooled span.
//
// The grains are the elements a goroutine is given at the least. They
// were measured with BenchmarkSplit (each size on one goroutine and split
// over two, interleaved, -count 4) on the 2-core AMD EPYC (Zen 5) this was
// written on, shared with other work (load average 1.1–1.2). Split, the
// vector sigmoid took 0.74–0.84 of the time on one goroutine at 131072
// elements (0.90–0.96 at 65536), relu 0.77–0.79 at 262144 (1.04–1.06 at
// 131072), and the activation's derivative and the vector SGD, bound by
// memory, 0.41–0.89 at 1048576 (1.00–1.06 at 262144); below those sizes
// the split was up to 1.45x slower. These were measured with workers that
// blocked between calls (package par's workers now spin for a while
// first). Inside a training step a split also
// moves data written on one core to the other (package gemm's
// BenchmarkSharedWrite), which costs more: the seed preset's sigmoid layers
// (360×128, 46080 elements), split, made its step 5–8 % slower than on one
// core (1115–1127 µs against 1030–1069, four alternations, load average
// 0.8–1.3). The vector gather, split, was 1.03–1.12x slower from 32768 to
// 262144 elements and 0.90–0.94 at 1048576, so it is never split. See
// docs/bench-cpu-gemm.md.
var (
	// expGrain: an exp per element (sigmoid, tanh), about 2 ns each.
	expGrain = 65536
	// cheapGrain: a compare or an add per element (relu, identity).
	cheapGrain = 131072
	// memGrain: a load, a store and a multiply or two per element (the
	// activation's derivative, SGD): the cores share the memory bandwidth.
	memGrain = 1 << 19
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
}

// Chunk runs chunk c of the span's rows.
func (s *span) Chunk(c int) { s.f(s, s.rows*c/s.chunks, s.rows*(c+1)/s.chunks) }

var spans = sync.Pool{New: func() any { return new(span) }}

// splits reports how many goroutines an operation on rows rows of cols
// elements each with the given grain runs on: 1 below twice the grain.
func splits(rows, cols, grain int) int {
	return max(1, min(par.Workers(), rows*cols/max(grain, 1), rows))
}

// run does s over its rows on g ≥ 2 goroutines, then puts s back.
func (s *span) run(g int) {
	s.chunks = min(s.rows, par.ChunksPerWorker*g)
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
