package cpuref

// SetGrains sets the elementwise operations' grains (see parallel.go) to g
// elements and returns a function that restores them, so that tests can
// split operations far smaller than the measured thresholds.
func SetGrains(g int) (restore func()) {
	e, c, m := expGrain, cheapGrain, memGrain
	expGrain, cheapGrain, memGrain = g, g, g
	return func() { expGrain, cheapGrain, memGrain = e, c, m }
}

// OwnedLayers is how many weight gradients of b were cut by owner.
func OwnedLayers(b *Backend) int { return len(b.owned) }

// OwnedForwards is how many forward products b has cut by owner.
func OwnedForwards(b *Backend) int { return b.ownedForwards }

// CutByOwner reports whether a lone model's m×n×k layer product is cut by
// owner with the current GOMAXPROCS.
func CutByOwner(m, n, k int) bool { return cutByOwner(m, n, k) }
