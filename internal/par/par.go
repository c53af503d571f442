// Package par runs the chunks of a loop on long-lived worker goroutines, so
// that a parallel operation costs a channel send and an atomic claim per
// chunk instead of starting goroutines, and allocates nothing per call.
//
// Do(job, n) runs job.Chunk(0) … job.Chunk(n−1), each exactly once, on the
// calling goroutine and on up to GOMAXPROCS − 1 workers (started on first
// use, never stopped), and returns when every chunk has finished. The
// chunks are claimed one at a time from one atomic word, first come first
// served, so a worker that the scheduler wakes late (its core busy with
// other work) takes fewer chunks instead of holding the others up, and
// one that wakes after the caller has claimed every chunk claims nothing
// and returns: the caller waits only for chunks that have started.
//
// A worker that has run out of chunks spins for a while (spin) before it
// blocks, so that the calls of a training step, microseconds apart, find
// it running instead of waking it through the operating system.
//
// The caller always runs chunk 0, so that a job whose chunks keep their
// data from one call to the next finds chunk 0's in the caller's cache;
// which goroutine runs each other chunk is left to chance. Callers make a
// chunk's result independent of that (each chunk writes its own part of
// the output), so results do not depend on the number of processors.
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Job is a loop cut into chunks. Chunk may run on any goroutine, several
// chunks at once; a panic in a chunk is raised again by Do on the calling
// goroutine after every started chunk has finished.
type Job interface {
	Chunk(i int)
}

// task is one call of Do. state holds the call's generation in its high
// 32 bits and the next chunk to claim in its low 32: a goroutine claims
// chunk i by moving state from gen|i to gen|i+1, so a worker holding the
// token of a finished call (another generation) claims nothing and never
// reads the fields that the task's next call writes.
type task struct {
	gen   uint32
	job   Job
	state atomic.Uint64
	left  atomic.Int64          // chunks not yet finished
	fault atomic.Pointer[fault] // the first panic of a chunk
	done  chan struct{}         // receives once, from the worker that finishes the last chunk
}

type fault struct{ v any }

// token asks a worker to help with generation gen of t, which has n
// chunks (carried here: t.n may already belong to the next call when a
// late worker looks).
type token struct {
	t   *task
	gen uint32
	n   int
}

var (
	once    sync.Once
	nworker int
	wake    chan token
	tasks   = sync.Pool{New: func() any { return &task{done: make(chan struct{}, 1)} }}
)

func start() {
	nworker = max(runtime.GOMAXPROCS(0)-1, 1)
	wake = make(chan token, 16*nworker)
	for range nworker {
		go worker()
	}
}

// worker runs the chunks of the calls it receives. Between calls it polls
// for the next one for up to spin before it blocks on the channel.
func worker() {
	for {
		tk, ok := recvSpinning(wake)
		if !ok {
			tk = <-wake
		}
		tk.t.help(tk.gen, tk.n, false)
	}
}

// recvSpinning polls c for up to spin and returns what it received, if
// anything.
func recvSpinning[T any](c chan T) (T, bool) {
	var t0 time.Time
	d := time.Duration(spin.Load())
	for i := 0; ; i++ {
		select {
		case v := <-c:
			return v, true
		default:
		}
		if i%64 == 0 { // a clock read costs more than a poll
			if i == 0 {
				t0 = time.Now()
			} else if time.Since(t0) > d {
				var zero T
				return zero, false
			}
		}
	}
}

// spin is how long, in nanoseconds, a goroutine that waits for a call
// (a worker) or for a call's last chunk (the caller) polls before it
// blocks, as OpenMP's threads spin before they sleep. A blocked goroutine
// is woken through the operating system: on the 2-core virtual machine
// this was measured on that took about 90 µs (BenchmarkWake/spin=0),
// longer than most operations of a model array at batch 32 take on a
// core, while a training step's calls come a few microseconds apart.
// Spinning for 20, 50, 100, 200 and 1000 µs (arrays of 16 and 64 models
// of 64-128-64-10, batch 32) was best from 100 µs on. The price is the
// core's time while it waits; GOMAXPROCS=1 starts no worker at all.
var spin atomic.Int64

func init() { spin.Store(int64(200 * time.Microsecond)) }

// ChunksPerWorker is how many chunks a loop split over g goroutines is cut
// into per goroutine: enough that one the scheduler wakes late (its core
// busy with other work) leaves at most a quarter of its share to the
// others, few enough that claiming them costs nothing.
const ChunksPerWorker = 4

// Workers returns how many goroutines a call of Do may run its chunks on:
// GOMAXPROCS, the caller's included (at most one more than the workers,
// GOMAXPROCS − 1 when Do was first called).
func Workers() int { return runtime.GOMAXPROCS(0) }

// Do runs job.Chunk(i) for i in [0, n) and returns when all have finished:
// on the calling goroutine alone when n < 2 or GOMAXPROCS is 1, else on the
// caller and the workers. It is safe for concurrent use (a chunk may call
// Do itself).
func Do(job Job, n int) {
	procs := runtime.GOMAXPROCS(0)
	if n < 2 || procs < 2 {
		for i := range n {
			job.Chunk(i)
		}
		return
	}
	once.Do(start)
	t := tasks.Get().(*task)
	t.gen++
	t.job = job
	t.left.Store(int64(n))
	// Chunk 0 is the caller's, claimed before any worker can look: a job
	// whose chunks keep their data from one call to the next (a model
	// array's fixed chunks, a layer cut by owner) finds chunk 0's data in
	// the caller's cache and, on two cores, chunk 1's in the worker's.
	t.state.Store(uint64(t.gen)<<32 | 1) // publishes job and left
	tk := token{t: t, gen: t.gen, n: n}
	for range min(n-1, nworker, procs-1) {
		select {
		case wake <- tk:
		default: // the workers are behind: the caller runs the chunks
		}
	}
	last := t.finish(0, true)
	if !t.help(t.gen, n, true) && !last {
		// A worker still runs a chunk: poll for its end for up to spin
		// (it is on another core, and being woken from a block costs the
		// caller as much as it costs a worker), then block.
		if _, ok := recvSpinning(t.done); !ok {
			<-t.done
		}
	}
	t.job = nil // hold nothing of the caller's past the call
	f := t.fault.Swap(nil)
	tasks.Put(t)
	if f != nil {
		panic(f.v)
	}
}

// help claims and runs chunks of generation gen of t (n of them) until
// none is left. It reports whether this goroutine finished the last chunk;
// a worker that does so wakes the caller instead (the caller, owner, never
// sends).
func (t *task) help(gen uint32, n int, owner bool) bool {
	last := false
	for {
		s := t.state.Load()
		i := int(uint32(s))
		if uint32(s>>32) != gen || i >= n {
			return last
		}
		if !t.state.CompareAndSwap(s, s+1) {
			continue
		}
		if t.finish(i, owner) {
			if !owner {
				return true
			}
			last = true
		}
	}
}

// finish runs chunk i, claimed by this goroutine, and reports whether it
// was the call's last to finish; a worker that finishes the last chunk
// wakes the caller.
func (t *task) finish(i int, owner bool) bool {
	if p := run(t.job, i); p != nil {
		t.fault.CompareAndSwap(nil, &fault{p})
	}
	if t.left.Add(-1) != 0 {
		return false
	}
	if !owner {
		t.done <- struct{}{}
	}
	return true
}

func run(job Job, i int) (p any) {
	defer func() { p = recover() }()
	job.Chunk(i)
	return nil
}
