package conformance

import (
	"context"
	"fmt"

	"github.com/gputrain/gputrain/backend"
)

// Size selects how much of the suite runs.
type Size int

const (
	// Quick runs a few cases of every check: each operation with each of
	// its variants (activations, transposes, loss kinds, optimizers, tile
	// loads) on one or two small shapes, and the whole training run. It
	// takes seconds on a software adapter.
	Quick Size = iota
	// Standard runs every case except the large product (1024×784×512),
	// as go test -short does.
	Standard
	// Full runs every case.
	Full
)

func (s Size) String() string {
	switch s {
	case Quick:
		return "quick"
	case Standard:
		return "standard"
	case Full:
		return "full"
	}
	return fmt.Sprintf("Size(%d)", int(s))
}

// Options configure Run.
type Options struct {
	// Size is how much of the suite to run.
	Size Size
	// Progress, if not nil, is called with each Result as its case ends.
	Progress func(Result)
	// Context, if not nil, stops the run when it is done: no check or case
	// starts after that, and Run returns the results so far.
	Context context.Context
}

// Result is the outcome of one case of a check.
type Result struct {
	// Op is the check, e.g. "MatMul" (see Checks).
	Op string
	// Case names the case within the check, e.g.
	// "37x129x65/transA=true/transB=false"; "" for a check without cases.
	Case string
	// MaxRatio is the worst |error|/bound over the case's comparisons: at
	// most 1 passes; +Inf for a NaN against a number or a length mismatch;
	// 0 when the case compared nothing (then Failures say what went wrong,
	// if anything did).
	MaxRatio float64
	// Compared counts the case's comparisons.
	Compared int
	// Pass reports that every comparison was within its bound and nothing
	// else failed.
	Pass bool
	// Failures hold each failure's message: for a comparison the element,
	// got, want and bound (see Mismatch.Error); otherwise what went wrong
	// (an error from the backend, a panic).
	Failures []string
	// Logs hold what the case logged: how close each comparison came.
	Logs []string
}

// Checks lists the names of the suite's checks in the order Run runs them.
func Checks() []string {
	names := make([]string, len(checks))
	for i, c := range checks {
		names[i] = c.name
	}
	return names
}

// Run runs every check of the suite on b outside go test, at opts.Size,
// and returns one Result per case in the order the cases ran (fewer when
// opts.Context ends the run early). It needs no testing flags. A panic inside a case (from the backend or the check)
// fails that case and Run goes on with the next.
func Run(b backend.Backend, opts Options) []Result {
	return run(b, opts, func(string) bool { return true })
}

// run is Run over the checks that keep accepts.
func run(b backend.Backend, opts Options, keep func(name string) bool) []Result {
	var out []Result
	emit := func(r Result) {
		out = append(out, r)
		if opts.Progress != nil {
			opts.Progress(r)
		}
	}
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	for _, c := range checks {
		if ctx.Err() != nil {
			break
		}
		if !keep(c.name) {
			continue
		}
		r := &recorder{ctx: ctx, sz: opts.Size, emit: emit, res: Result{Op: c.name}}
		r.do(func(r reporter) { c.f(r, b) })
	}
	return out
}

// recorder is the reporter of Run: one per check and per case, recording
// failures instead of failing a test.
type recorder struct {
	ctx      context.Context // no case starts once it is done
	sz       Size
	emit     func(Result)
	res      Result
	cases    int // subtests run below this one
	cleanups []func()
}

// fatal is the panic with which recorder.Fatalf ends a case, as
// testing.T.FailNow does.
type fatal struct{}

func (r *recorder) Helper() {}
func (r *recorder) Logf(format string, args ...any) {
	r.res.Logs = append(r.res.Logs, fmt.Sprintf(format, args...))
}
func (r *recorder) Errorf(format string, args ...any) {
	r.res.Failures = append(r.res.Failures, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(fatal{})
}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recorder) size() Size       { return r.sz }

func (r *recorder) compared(m Mismatch) {
	r.res.Compared++
	if m.WorstRatio > r.res.MaxRatio {
		r.res.MaxRatio = m.WorstRatio
	}
}

func (r *recorder) run(name string, f func(reporter)) {
	r.cases++
	if r.ctx.Err() != nil {
		return
	}
	c := r.res.Case
	if c != "" {
		c += "/"
	}
	sub := &recorder{ctx: r.ctx, sz: r.sz, emit: r.emit, res: Result{Op: r.res.Op, Case: c + name}}
	sub.do(f)
}

// do runs f as r's body, then r's cleanups (last first), stopping at
// Fatalf like the testing package does and turning any other panic into a
// failure. It then emits r's Result if r is a case (it ran no subtests)
// or recorded something itself.
func (r *recorder) do(f func(reporter)) {
	defer func() {
		if r.cases == 0 || r.res.Compared > 0 || len(r.res.Failures) > 0 {
			r.res.Pass = len(r.res.Failures) == 0 && !(r.res.MaxRatio > 1)
			r.emit(r.res)
		}
	}()
	defer func() {
		for i := len(r.cleanups) - 1; i >= 0; i-- {
			r.cleanup(r.cleanups[i])
		}
	}()
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(fatal); !ok {
				r.Errorf("panic: %v", v)
			}
		}
	}()
	f(r)
}

// cleanup runs one cleanup function, recording a panic as a failure.
func (r *recorder) cleanup(f func()) {
	defer func() {
		if v := recover(); v != nil {
			r.Errorf("panic in cleanup: %v", v)
		}
	}()
	f()
}
