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
// written on, shared with other work (load average 1.6–4.6): the split was
// ahead by the minimum and the median from 32768 elements for the vector
// sigmoid (0.86–0.88 of the time on one goroutine) in that loop, but not
// inside a training step, where the worker has gone to sleep during the
// product before: the seed preset's sigmoid layers (360×128, 46080
// elements) split made its step 5–8 % slower than on one core (1115–1127
// µs against 1030–1069, four alternations, load average 0.8–1.3), and
// unsplit it ran as fast as on one core; so the sigmoid splits from 65536
// elements. The split was ahead from 131072 for the
// derivative (0.73–0.75) and relu (0.64–0.82), and from 1048576 for the
// vector SGD (0.81–0.85; at 262144 it was 1.10–1.13), which is bound by
// memory; below those sizes the split was up to 2x slower. The vector
// gather was slower split at every size up to 4M elements, so it is never
// split. See docs/bench-cpu-gemm.md.
var (
	// expGrain: an exp per element (sigmoid, tanh), about 2 ns each.
	expGrain = 32768
	// cheapGrain: a few flops per element (relu, identity, the
	// activation's derivative).
	cheapGrain = 65536
	// memGrain: a load, a store and a multiply-add per element (SGD): the
	// cores share the memory bandwidth.
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
