package cpuref

import (
	"runtime"
	"sync"
)

// parallel calls f on contiguous ranges that cover [0, n), on up to
// GOMAXPROCS goroutines (the calling one included) with at least grain
// items each, and returns when all calls have; below 2·grain it is one
// call on the calling goroutine. Each range's result is independent of the
// split, so results do not depend on the number of processors.
func parallel(n, grain int, f func(lo, hi int)) {
	g := min(runtime.GOMAXPROCS(0), n/max(grain, 1))
	if g <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for i := 1; i < g; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(n*i/g, n*(i+1)/g)
		}()
	}
	f(0, n/g)
	wg.Wait()
}

// elementGrain is the fewest elements worth a goroutine for an elementwise
// operation with an exp or tanh per element (about 10 ns each).
const elementGrain = 8192
