package main

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/conformance"
	"github.com/gputrain/gputrain/conformance/verify"
)

func init() {
	register(&command{name: "check", summary: "prove a device: the conformance suite against the float64 reference", run: runCheck})
}

const checkSynopsis = `[--device D] [--quick] [--json]

Runs the conformance suite of package conformance on the device
against the float64 reference computed here: every operation and case that
the parity tests cover (each transpose, the fused layers, every activation
and its gradient, column sum, each loss and its gradient, accuracy counting,
gather from bytes and floats, fill, every optimizer, views, ReadAll) and a
short whole training run compared step curve by curve and weight by weight.
One row per case: the op, the case, the worst |error| over its stated bound
(at most 1 passes) and the verdict; each failure names the element, got,
want and bound. Exit status 0 when every case passes, 1 when any fails.`

// openCheck opens the device that check runs on; tests substitute broken
// backends.
var openCheck = func(choice string) (backend.Backend, string, error) { return openDevice(choice, false) }

// checkJSON is the --json output of check.
type checkJSON struct {
	Device  string      `json:"device"`
	Backend string      `json:"backend"`
	Adapter string      `json:"adapter"`
	Driver  string      `json:"driver"`
	Size    string      `json:"size"`
	Passed  int         `json:"passed"`
	Failed  int         `json:"failed"`
	Seconds float64     `json:"seconds"`
	Checks  []checkCase `json:"checks"`
}

type checkCase struct {
	Op   string `json:"op"`
	Case string `json:"case"`
	// MaxRatio is null where it is not a number JSON can hold (+Inf: a
	// NaN against a number, or a length mismatch).
	MaxRatio *float64 `json:"max_ratio"`
	Pass     bool     `json:"pass"`
	Failures []string `json:"failures,omitempty"`
}

func runCheck(e *env, args []string) error {
	fs := newFlags(e, "check", checkSynopsis)
	device := fs.String("device", "auto", deviceHelp)
	quick := fs.Bool("quick", false, "a few cases of every op and variant, and the training run (seconds on a software adapter)")
	asJSON := fs.Bool("json", false, "print one JSON object on stdout instead of the table")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkDevice(*device); err != nil {
		return err
	}
	b, why, err := openCheck(*device)
	if err != nil {
		return err
	}
	defer b.Close()
	announce(e, b, why, false)
	info := b.Info()
	if info.Kind == "cpu" {
		fmt.Fprintln(e.stderr, "note:   the CPU backend is the reference itself: every ratio is 0 (use --device gpu, software, … to check an adapter)")
	}
	size := conformance.Full
	if *quick {
		size = conformance.Quick
	}
	var progress func(conformance.Result)
	if !*asJSON {
		fmt.Fprintf(e.stdout, "%-21s %-40s %9s  %s\n", "OP", "CASE", "MAX RATIO", "VERDICT")
		progress = func(r conformance.Result) { writeCheckRow(e.stdout, r) }
	}
	start := time.Now()
	res := conformance.Run(b, conformance.Options{Size: size, Progress: progress, Context: e.ctx})
	out := checkJSON{Device: info.Kind, Backend: info.API, Adapter: info.Adapter, Driver: info.Driver,
		Size: size.String(), Seconds: time.Since(start).Seconds(), Checks: []checkCase{}}
	var firstFail *conformance.Result
	for i, r := range res {
		c := checkCase{Op: r.Op, Case: r.Case, Pass: r.Pass, Failures: r.Failures}
		if !math.IsInf(r.MaxRatio, 0) && !math.IsNaN(r.MaxRatio) {
			c.MaxRatio = &res[i].MaxRatio
		}
		out.Checks = append(out.Checks, c)
		if r.Pass {
			out.Passed++
		} else {
			out.Failed++
			if firstFail == nil {
				firstFail = &res[i]
			}
		}
	}
	if e.ctx.Err() != nil {
		fmt.Fprintf(e.stderr, "interrupted after %d cases (%d failed)\n", len(res), out.Failed)
		return &exitError{code: 130}
	}
	if *asJSON {
		if err := writeJSON(e.stdout, out); err != nil {
			return err
		}
	} else {
		driver := info.Driver
		if driver == "" {
			driver = "not reported"
		}
		fmt.Fprintf(e.stdout, "\n%s check: %d passed, %d failed on %s (API %s, driver %s) in %.1f s\n",
			size, out.Passed, out.Failed, info.Adapter, info.API, driver, out.Seconds)
	}
	if firstFail != nil {
		return fmt.Errorf("%d of %d cases failed on %s; first: %s", out.Failed, len(res), info.Adapter, verify.Describe(*firstFail))
	}
	return nil
}

// writeCheckRow prints one case of the table, and its failures under it.
func writeCheckRow(w io.Writer, r conformance.Result) {
	ratio := "-"
	if r.Compared > 0 {
		ratio = fmt.Sprintf("%.3f", r.MaxRatio)
	}
	verdict := "pass"
	if !r.Pass {
		verdict = "FAIL"
	}
	c := r.Case
	if c == "" {
		c = "-"
	}
	fmt.Fprintf(w, "%-21s %-40s %9s  %s\n", r.Op, c, ratio, verdict)
	for _, f := range r.Failures {
		fmt.Fprintf(w, "    %s\n", f)
	}
}

// verifierFor returns the Verifier of train and bench; tests substitute
// one whose Hardware seam accepts the software adapter or the CPU.
var verifierFor = func() verify.Verifier { return verify.Verifier{Cache: verify.DefaultCache()} }

// verifyDevice proves b on first use (see package verify) unless on is
// false, and prints the banner's verdict line. A failed check is an error
// that names the failing op and how to run anyway.
// The CPU backend, the reference itself, gets no line unless the Hardware
// seam makes it verify.
func verifyDevice(e *env, b backend.Backend, on bool) error {
	cpu := b.Info().Kind == "cpu"
	if !on {
		if !cpu {
			fmt.Fprintln(e.stderr, "check:  not verified (--verify=false)")
		}
		return nil
	}
	out, err := verifierFor().Verify(b)
	if out.Note != "" {
		fmt.Fprintf(e.stderr, "check:  %s\n", out.Note)
	}
	if err != nil {
		return fmt.Errorf("%w\n(`gputrain check --device %s` shows every case; --verify=false runs anyway, unverified)", err, deviceChoiceOf(b.Info()))
	}
	if !cpu || out.Skipped == "" {
		fmt.Fprintf(e.stderr, "check:  %s\n", out)
	}
	return nil
}

// deviceChoiceOf is the --device value that selects info's adapter.
func deviceChoiceOf(info backend.Info) string {
	switch {
	case info.Kind == "cpu":
		return "cpu"
	case info.AdapterType == "cpu":
		return "software"
	case info.API == "vulkan" || info.API == "metal" || info.API == "dx12" || info.API == "gl":
		return info.API
	}
	return "gpu"
}

const verifyHelp = "run the quick conformance check the first time a hardware adapter, driver and shader set is used, and stop if it fails (the verdict is kept: $GPUTRAIN_CHECK_CACHE or the user cache folder)"
