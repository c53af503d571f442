// Package backendtest is the conformance suite for backend.Backend
// implementations, in the manner of gonum's blas/testblas: each exported
// function runs one operation on the candidate backend and on the float64
// reference (package cpuref) with identical inputs, and checks every element
// of the candidate's result against a bound stated, with its reason, beside
// each test. A backend's parity test is then a one-liner per operation:
//
//	func TestParityMatMul(t *testing.T) { backendtest.MatMul(t, open(t)) }
//
// Inputs are rounded to float32 before use, so a float32 backend and the
// reference start from the same numbers and every difference is the
// candidate's own arithmetic.
package backendtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gputrain/gputrain/backend"
)

// u is the unit roundoff of float32, 2⁻²⁴: one correctly rounded float32
// operation has relative error at most u.
const u = 0x1p-24

// Mismatch describes the worst element of a comparison.
type Mismatch struct {
	What        string
	Index       int
	Got, Want   float64
	Bound       float64
	WorstRatio  float64 // max over elements of |got-want|/bound
	MaxAbsError float64
}

func (m Mismatch) Error() string {
	return fmt.Sprintf("%s: element %d = %.9g, want %.9g: |error| %.3g exceeds bound %.3g (%.2fx)",
		m.What, m.Index, m.Got, m.Want, math.Abs(m.Got-m.Want), m.Bound, m.WorstRatio)
}

// Compare checks |got[i]-want[i]| ≤ bound(i) for every i. It returns the
// worst element (largest error relative to its bound) and whether all
// elements are within their bounds. A NaN or Inf in got where want is
// finite always fails.
func Compare(what string, got, want []float64, bound func(i int) float64) (Mismatch, bool) {
	worst := Mismatch{What: what, Index: -1}
	if len(got) != len(want) {
		worst.Index, worst.WorstRatio = len(got), math.Inf(1)
		return worst, false
	}
	ok := true
	for i := range got {
		d := math.Abs(got[i] - want[i])
		bd := bound(i)
		r := d / bd
		if d == 0 {
			r = 0
		}
		if math.IsNaN(got[i]) != math.IsNaN(want[i]) || (math.IsNaN(d) && !math.IsNaN(want[i])) {
			r = math.Inf(1)
		}
		if d > worst.MaxAbsError {
			worst.MaxAbsError = d
		}
		if worst.Index < 0 || r > worst.WorstRatio {
			worst = Mismatch{What: what, Index: i, Got: got[i], Want: want[i], Bound: bd, WorstRatio: r, MaxAbsError: worst.MaxAbsError}
		}
		if !(r <= 1) {
			ok = false
		}
	}
	return worst, ok
}

// check reports a comparison on t and logs the measured error, so CI logs
// show how close each op came to its bound.
func check(t testing.TB, what string, got, want []float64, bound func(i int) float64) {
	t.Helper()
	m, ok := Compare(what, got, want, bound)
	if !ok {
		t.Errorf("%v", m)
		return
	}
	t.Logf("%s: max |error| %.3g, worst at %.2f of its bound", what, m.MaxAbsError, m.WorstRatio)
}

// pair holds the candidate and the reference.
type pair struct {
	t    testing.TB
	cand backend.Backend
	ref  backend.Backend
}

// tensor makes a tensor on both backends holding the same values.
func (p pair) tensor(rows, cols int, vals []float64) (backend.Tensor, backend.Tensor) {
	p.t.Helper()
	c, err := p.cand.New(rows, cols, backend.Float)
	if err != nil {
		p.t.Fatalf("candidate New(%d, %d): %v", rows, cols, err)
	}
	r, err := p.ref.New(rows, cols, backend.Float)
	if err != nil {
		p.t.Fatalf("reference New(%d, %d): %v", rows, cols, err)
	}
	if vals != nil {
		if err := p.cand.WriteFloats(c, vals); err != nil {
			p.t.Fatalf("candidate WriteFloats: %v", err)
		}
		if err := p.ref.WriteFloats(r, vals); err != nil {
			p.t.Fatalf("reference WriteFloats: %v", err)
		}
	}
	return c, r
}

// read returns both tensors' contents.
func (p pair) read(c, r backend.Tensor) (got, want []float64) {
	p.t.Helper()
	got, err := p.cand.ReadFloats(c)
	if err != nil {
		p.t.Fatalf("candidate ReadFloats: %v", err)
	}
	want, err = p.ref.ReadFloats(r)
	if err != nil {
		p.t.Fatalf("reference ReadFloats: %v", err)
	}
	return got, want
}

// uniform returns n float32-representable values uniform in [lo, hi).
func uniform(rng *rand.Rand, n int, lo, hi float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(float32(lo + (hi-lo)*rng.Float64()))
	}
	return v
}

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }
