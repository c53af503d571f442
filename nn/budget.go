package nn

import (
	"fmt"
	"math"

	"github.com/gputrain/gputrain/internal/memlimit"
)

// ErrTooLarge is matched (with errors.Is) by the errors of a model, or of a
// training run, that needs more memory than the process has: they name the
// model, the bytes it needs and the limit, and are returned before the
// memory is asked for.
var ErrTooLarge = memlimit.ErrTooLarge

// ParamCount returns the number of weights and biases of s, and false when
// the count does not fit an int (or a width is negative).
func (s Spec) ParamCount() (int, bool) {
	sz := s.Sizes()
	var n uint64
	for i := range len(sz) - 1 {
		if sz[i] < 0 || sz[i+1] < 0 {
			return 0, false
		}
		in, out := uint64(sz[i]), uint64(sz[i+1])
		n = memlimit.Add(n, memlimit.Mul(memlimit.Add(in, 1), out))
	}
	if n > math.MaxInt {
		return 0, false
	}
	return int(n), true
}

// Host bytes per parameter and per activation, float64 as the CPU
// reference keeps them (the GPU's float32 tensors are smaller, but their
// host copies are float64 too).
const (
	// holdBytes: the parameters on the backend and a host copy (drawn
	// weights, a checkpoint read back).
	holdBytes = 2 * 8
	// trainBytes: the parameters, their gradients, two optimizer moments,
	// the best epoch's copy and a host copy.
	trainBytes = 6 * 8
	// actBytes: per row and unit, the activations, their derivatives and
	// the pre-activations of a step (or an evaluation chunk).
	actBytes = 3 * 8
)

// MemoryNeed estimates the host memory, in bytes, that a model of s takes:
// to hold it and evaluate rows batch at a time (train false), or to train
// it with batches of batch rows (train true). It saturates instead of
// overflowing.
func (s Spec) MemoryNeed(train bool, batch int) uint64 {
	params, ok := s.ParamCount()
	p := uint64(math.MaxUint64)
	if ok {
		p = uint64(params)
	}
	per := uint64(holdBytes)
	if train {
		per = trainBytes
	}
	var units uint64
	for _, w := range s.Sizes() {
		units = memlimit.Add(units, uint64(max(w, 0)))
	}
	return memlimit.Add(memlimit.Mul(p, per), memlimit.Mul(memlimit.Mul(uint64(max(batch, 1)), units), actBytes))
}

// CheckMemory returns an error matching ErrTooLarge, naming s, its
// parameter count, the bytes MemoryNeed(train, batch) estimates and the
// limit, when they exceed the memory this process may still allocate (the
// least of the host's available memory, a cgroup or ulimit -v limit, and
// GOMEMLIMIT).
func (s Spec) CheckMemory(train bool, batch int) error {
	what := "holding model " + s.String()
	if train {
		what = "training model " + s.String()
	}
	if n, ok := s.ParamCount(); ok {
		what += fmt.Sprintf(" (%d parameters)", n)
	} else {
		what += " (more parameters than an int counts)"
	}
	if err := memlimit.Check(what, s.MemoryNeed(train, batch)); err != nil {
		return fmt.Errorf("nn: %w", err)
	}
	return nil
}
