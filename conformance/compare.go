// Package conformance is the conformance suite for backend.Backend
// implementations, in the manner of gonum's blas/testblas: each exported
// function runs operations on the candidate backend and on the float64
// reference (package cpuref) with identical inputs, and checks every element
// of the candidate's result against a bound stated, with its reason, beside
// each check. A backend's parity test is then a one-liner per operation,
// through the test-only package conformance/conformancetest:
//
//	func TestParityMatMul(t *testing.T) { conformancetest.MatMul(t, open(t)) }
//
// Inputs are rounded to float32 before use, so a float32 backend and the
// reference start from the same numbers and every difference is the
// candidate's own arithmetic. The bounds are worst-case error bounds for
// float32 evaluation under the WGSL accuracy rules (exp: 3+2|x| ULP; log:
// 3 ULP, or 2⁻²¹ absolute on [0.5, 2]; division: 2.5 ULP; +, −, ×: correctly
// rounded; subnormals may flush to zero), so a correct kernel passes for
// every summation order and tiling, and each check logs how close it came.
//
// Every check uses a fixed seed, so runs are deterministic.
//
// The same checks run outside go test: Run runs them on any backend at a
// Size (Quick, Standard or Full) and returns each case's worst
// |error|/bound ratio and failures, without testing flags; the gputrain
// check command and the verification on first use (package
// conformance/verify) are built on it. Under go test the size is Full, or
// Standard with -short. This package does not import testing, so that the
// gputrain binary, which runs the suite, does not link it: go test reaches
// the checks through RunCheck, which conformancetest calls with *testing.T
// adapted to T.
package conformance

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gputrain/gputrain/backend"
)

// u is the unit roundoff of float32, 2⁻²⁴: one correctly rounded float32
// operation has relative error at most u, and one ULP of a float32 value v
// is at most 2u·|v|.
const u = 0x1p-24

// tiny is the smallest normal float32, 2⁻¹²⁶. WGSL lets an implementation
// flush subnormal results to zero, so every bound has this absolute floor.
const tiny = 0x1p-126

// Mismatch describes the worst element of a comparison: the one with the
// largest error relative to its bound.
type Mismatch struct {
	What       string  // what was compared
	Index      int     // the worst element, -1 if none was compared
	Got, Want  float64 // candidate and reference values there
	Bound      float64 // its bound
	WorstRatio float64 // |Got−Want|/Bound: above 1 fails; +Inf for NaN or a length mismatch
	MaxAbs     float64 // the largest |got−want| over all elements
}

// Error describes the mismatch.
func (m Mismatch) Error() string {
	if m.Index < 0 {
		return fmt.Sprintf("%s: lengths differ", m.What)
	}
	return fmt.Sprintf("%s: element %d = %.9g, want %.9g: |error| %.3g exceeds bound %.3g (%.2fx)",
		m.What, m.Index, m.Got, m.Want, math.Abs(m.Got-m.Want), m.Bound, m.WorstRatio)
}

// Compare checks |got[i]−want[i]| ≤ bound(i) for every i. It returns the
// worst element and whether every element is within its bound. Equal values
// (including equal infinities, and NaN against NaN) always pass; a NaN
// against a number, or slices of different lengths, always fail.
func Compare(what string, got, want []float64, bound func(i int) float64) (Mismatch, bool) {
	worst := Mismatch{What: what, Index: -1}
	if len(got) != len(want) {
		worst.WorstRatio = math.Inf(1)
		return worst, false
	}
	for i := range got {
		g, w := got[i], want[i]
		bd := bound(i)
		d := math.Abs(g - w)
		var r float64
		switch {
		case g == w || math.IsNaN(g) && math.IsNaN(w):
			r, d = 0, 0
		case math.IsNaN(d) || math.IsNaN(g) || math.IsNaN(w):
			r = math.Inf(1)
		default:
			r = d / bd // +Inf for a nonzero error against a zero bound
		}
		worst.MaxAbs = math.Max(worst.MaxAbs, d)
		if worst.Index < 0 || r > worst.WorstRatio {
			worst.Index, worst.Got, worst.Want, worst.Bound, worst.WorstRatio = i, g, w, bd, r
		}
	}
	return worst, !(worst.WorstRatio > 1)
}

// reporter is what the suite reports to: the part of *testing.T it uses,
// plus the size of the run and a record of each comparison. Under go test
// it is a tReporter; outside (Run, and the suite's own tests of broken
// backends) it is a recorder.
type reporter interface {
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
	// run runs f as a subtest (a case) named name.
	run(name string, f func(reporter))
	// size is how much of the suite to run.
	size() Size
	// compared records the worst element of one comparison (assertClose
	// calls it before failing or logging).
	compared(m Mismatch)
}

// T is what a check reports to under go test: the part of *testing.T the
// suite uses, with subtests and -short as methods of its own, so that this
// package need not import testing (package conformancetest adapts *testing.T).
type T interface {
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
	// Run runs f as a subtest named name.
	Run(name string, f func(T))
	// Short reports go test -short: the suite then runs at Standard size,
	// else Full.
	Short() bool
}

// RunCheck runs the check named name (one of Checks) on b, reporting to t,
// with its cases as subtests. It panics for an unknown name.
func RunCheck(t T, name string, b backend.Backend) {
	for _, c := range checks {
		if c.name == name {
			c.f(tReporter{t}, b)
			return
		}
	}
	panic(fmt.Sprintf("conformance: no check %q", name))
}

// tReporter adapts T to reporter. Its size is Standard under go test
// -short, Full otherwise.
type tReporter struct{ T }

func (t tReporter) run(name string, f func(reporter)) {
	t.T.Run(name, func(t T) { f(tReporter{t}) })
}

func (t tReporter) size() Size {
	if t.Short() {
		return Standard
	}
	return Full
}

func (tReporter) compared(Mismatch) {}

// skip reports whether a case is left out of this run: under Quick, every
// case but those marked quick.
func skip(r reporter, quick bool) bool { return r.size() == Quick && !quick }

// assertClose fails r unless Compare accepts got against want, reporting
// the worst index, got, want and bound; either way it logs the measured
// error, so CI logs show how close each operation came to its bound.
func assertClose(r reporter, got, want []float64, bound func(i int) float64, what string) {
	r.Helper()
	m, ok := Compare(what, got, want, bound)
	r.compared(m)
	if !ok {
		r.Errorf("%v", m)
		return
	}
	r.Logf("%s: max |error| %.3g, worst at %.3f of its bound", what, m.MaxAbs, m.WorstRatio)
}

// exact is the bound of a result that must match bit for bit.
func exact(int) float64 { return 0 }

// pair holds the candidate and the reference, and the reporter of the
// current (sub)test.
type pair struct {
	r    reporter
	cand backend.Backend
	ref  backend.Backend
}

// newPair opens a reference backend next to b, closed when r ends.
func newPair(r reporter, b backend.Backend) pair {
	ref := newReference()
	r.Cleanup(func() { _ = ref.Close() })
	return pair{r: r, cand: b, ref: ref}
}

// sub returns p reporting to r.
func (p pair) sub(r reporter) pair { p.r = r; return p }

// tensor makes a rows×cols Float tensor on each backend, holding vals
// (zeros if nil).
func (p pair) tensor(rows, cols int, vals []float64) (cand, ref backend.Tensor) {
	p.r.Helper()
	cand = p.newT(p.cand, "candidate", rows, cols, backend.Float)
	ref = p.newT(p.ref, "reference", rows, cols, backend.Float)
	if vals != nil {
		p.write(cand, ref, vals)
	}
	return cand, ref
}

// hp makes a 1×len(row) hyperparameter table holding row on each backend
// (see backend.Backend.SGD).
func (p pair) hp(row []float64) (cand, ref backend.Tensor) {
	p.r.Helper()
	return p.tensor(1, len(row), row)
}

// newT allocates on one backend, failing r on error.
func (p pair) newT(b backend.Backend, who string, rows, cols int, dt backend.DType) backend.Tensor {
	p.r.Helper()
	t, err := b.New(rows, cols, dt)
	if err != nil {
		p.r.Fatalf("%s New(%d, %d, %v): %v", who, rows, cols, dt, err)
	}
	return t
}

// write copies vals into both tensors.
func (p pair) write(cand, ref backend.Tensor, vals []float64) {
	p.r.Helper()
	if err := p.cand.WriteFloats(cand, vals); err != nil {
		p.r.Fatalf("candidate WriteFloats: %v", err)
	}
	if err := p.ref.WriteFloats(ref, vals); err != nil {
		p.r.Fatalf("reference WriteFloats: %v", err)
	}
}

// indices makes an Index tensor holding idx on each backend.
func (p pair) indices(idx []uint32) (cand, ref backend.Tensor) {
	p.r.Helper()
	cand = p.newT(p.cand, "candidate", len(idx), 1, backend.Index)
	ref = p.newT(p.ref, "reference", len(idx), 1, backend.Index)
	if err := p.cand.WriteIndices(cand, idx); err != nil {
		p.r.Fatalf("candidate WriteIndices: %v", err)
	}
	if err := p.ref.WriteIndices(ref, idx); err != nil {
		p.r.Fatalf("reference WriteIndices: %v", err)
	}
	return cand, ref
}

// pixels makes a rows×cols Byte tensor of random bytes on each backend, 255
// in its first and last elements.
func (p pair) pixels(rng *rand.Rand, rows, cols int) (cand, ref backend.Tensor) {
	p.r.Helper()
	pix := make([]byte, rows*cols)
	for i := range pix {
		pix[i] = byte(rng.IntN(256))
	}
	pix[0], pix[len(pix)-1] = 255, 255
	cand = p.newT(p.cand, "candidate", rows, cols, backend.Byte)
	ref = p.newT(p.ref, "reference", rows, cols, backend.Byte)
	if err := p.cand.WriteBytes(cand, pix); err != nil {
		p.r.Fatalf("candidate WriteBytes: %v", err)
	}
	if err := p.ref.WriteBytes(ref, pix); err != nil {
		p.r.Fatalf("reference WriteBytes: %v", err)
	}
	return cand, ref
}

// read returns both tensors' contents.
func (p pair) read(cand, ref backend.Tensor) (got, want []float64) {
	p.r.Helper()
	got, err := p.cand.ReadFloats(cand)
	if err != nil {
		p.r.Fatalf("candidate ReadFloats: %v", err)
	}
	want, err = p.ref.ReadFloats(ref)
	if err != nil {
		p.r.Fatalf("reference ReadFloats: %v", err)
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

// newRNG returns the deterministic generator of one check.
func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

// abs returns |v| elementwise.
func abs(v []float64) []float64 {
	a := make([]float64, len(v))
	for i, x := range v {
		a[i] = math.Abs(x)
	}
	return a
}
