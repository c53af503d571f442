package par

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// counts records how many times each chunk ran.
type counts []atomic.Int32

func (c counts) Chunk(i int) { c[i].Add(1) }

// nested runs a Do of its own in every chunk.
type nested struct{ inner []counts }

func (n *nested) Chunk(i int) { Do(n.inner[i], len(n.inner[i])) }

// panics panics in chunk bad.
type panics struct{ bad int }

func (p panics) Chunk(i int) {
	if i == p.bad {
		panic(fmt.Sprint("chunk ", i))
	}
}

func withProcs(t *testing.T, procs int) {
	old := runtime.GOMAXPROCS(procs)
	t.Cleanup(func() { runtime.GOMAXPROCS(old) })
}

func TestDoRunsEachChunkOnce(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		for _, n := range []int{0, 1, 2, 3, 17, 1000} {
			t.Run(fmt.Sprintf("procs=%d/n=%d", procs, n), func(t *testing.T) {
				withProcs(t, procs)
				for range 50 { // reuse of pooled tasks across calls
					c := make(counts, n)
					Do(c, n)
					for i := range c {
						if got := c[i].Load(); got != 1 {
							t.Fatalf("chunk %d ran %d times, want 1", i, got)
						}
					}
				}
			})
		}
	}
}

func TestDoNested(t *testing.T) {
	withProcs(t, 2)
	n := &nested{}
	for i := range 8 {
		n.inner = append(n.inner, make(counts, i+1))
	}
	Do(n, len(n.inner))
	for i, c := range n.inner {
		for j := range c {
			if got := c[j].Load(); got != 1 {
				t.Fatalf("inner %d, chunk %d ran %d times, want 1", i, j, got)
			}
		}
	}
}

func TestDoPanicsOnCaller(t *testing.T) {
	for _, tc := range []struct{ procs, n, bad int }{{1, 4, 2}, {2, 4, 0}, {2, 100, 99}, {4, 9, 5}} {
		t.Run(fmt.Sprintf("procs=%d/n=%d/bad=%d", tc.procs, tc.n, tc.bad), func(t *testing.T) {
			withProcs(t, tc.procs)
			want := fmt.Sprint("chunk ", tc.bad)
			defer func() {
				if p := recover(); p != want {
					t.Fatalf("recovered %v, want %q", p, want)
				}
			}()
			Do(panics{tc.bad}, tc.n)
		})
	}
}

// A call with no work allocates nothing on the caller's side.
func TestDoAllocatesNothing(t *testing.T) {
	withProcs(t, 2)
	var j Job = make(counts, 8) // boxed once, as a caller's pointer would be
	Do(j, 8)                    // start the workers, fill the pool
	if a := testing.AllocsPerRun(100, func() { Do(j, 8) }); a != 0 {
		t.Fatalf("Do allocated %v times a call, want 0", a)
	}
}

// meet is a two-chunk job whose chunks each wait until both have started:
// a call of Do on it lasts as long as a worker takes to join the caller.
type meet struct{ started atomic.Int32 }

func (m *meet) Chunk(int) {
	m.started.Add(1)
	for m.started.Load() < 2 {
	}
}

// BenchmarkWake times how long a worker takes to start on a call of Do
// made right after the previous call's chunks: with the workers spinning
// between calls (spin=200µs, the default) and with them blocking at once
// (spin=0), when the system must wake one. It is the least a split over
// two goroutines costs. Run with -cpu 2 or more:
//
//	go test -run '^$' -bench Wake -count 5 ./internal/par
func BenchmarkWake(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs GOMAXPROCS ≥ 2")
	}
	def := time.Duration(spin.Load())
	for _, d := range []time.Duration{def, 0} {
		b.Run(fmt.Sprintf("spin=%v", d), func(b *testing.B) {
			defer spin.Store(int64(def))
			spin.Store(int64(d))
			time.Sleep(def + time.Millisecond) // the workers take up the setting
			var m meet
			for b.Loop() {
				m.started.Store(0)
				Do(&m, 2)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/wake")
		})
	}
}

// TestDoAfterSpin: calls of Do made after the workers have stopped
// spinning and blocked still run every chunk, on the workers too.
func TestDoAfterSpin(t *testing.T) {
	withProcs(t, 2)
	for range 3 {
		time.Sleep(time.Duration(spin.Load()) + 2*time.Millisecond)
		var m meet // finishes only if a worker joins the caller
		done := make(chan struct{})
		go func() { Do(&m, 2); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("no worker joined a call made after the spin")
		}
	}
}
