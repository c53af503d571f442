// Package verify proves a GPU adapter on first use: the first time gputrain
// trains or benchmarks on a hardware adapter whose adapter, driver and
// shaders have no recorded verdict, it runs the quick conformance check
// (conformance.Run at conformance.Quick) against the float64 reference and
// records the verdict in a JSON file in the user cache folder, beside the
// autotune cache. Later runs on the same adapter, driver and shaders read
// the verdict instead of checking again; a new driver or an edited shader
// is checked afresh.
//
// The file holds one entry per fingerprint and is merged on every write
// (re-read, updated, written atomically), as the autotune cache is. It is
// an optimisation: a file that cannot be read is checked afresh and
// rewritten, and one that cannot be written leaves the verdict for this
// run only (Outcome.Note says so).
package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/conformance"
	"github.com/gputrain/gputrain/internal/usercache"
	"github.com/gputrain/gputrain/shaders"
)

// DefaultCache is the verdict file the command line uses: the file that
// GPUTRAIN_CHECK_CACHE names ("off" for none: every run on a hardware
// adapter checks again), else checks.json in gputrain's folder of the
// user's cache directory.
func DefaultCache() string { return usercache.File("GPUTRAIN_CHECK_CACHE", "checks.json") }

// Key fingerprints what a verdict was measured on.
type Key struct {
	Adapter string `json:"adapter"`
	API     string `json:"api"`
	Driver  string `json:"driver"`
	// DriverVersion is the driver's version where the system tells it
	// (see driverVersion): WebGPU's binding reports the adapter's name as
	// its driver description, without a version.
	DriverVersion string `json:"driver_version,omitempty"`
	// Shaders is shaders.Fingerprint() of the build that checked.
	Shaders string `json:"shaders"`
}

// KeyOf returns the fingerprint of the device info describes, with this
// build's shaders.
func KeyOf(info backend.Info) Key {
	return Key{Adapter: info.Adapter, API: info.API, Driver: info.Driver, DriverVersion: driverVersion(info),
		Shaders: shaders.Fingerprint()}
}

// nvidiaVersionFile holds the loaded NVIDIA kernel module's version on
// Linux (also inside containers, which see the host's module).
var nvidiaVersionFile = "/sys/module/nvidia/version"

// driverVersion returns the version of info's driver where the system
// tells it: for NVIDIA adapters the kernel module's version, which changes
// with every driver installation. Elsewhere (Mesa, Metal, D3D12) it is "",
// and a driver update there is not noticed unless it renames the adapter.
func driverVersion(info backend.Info) string {
	if !strings.Contains(strings.ToUpper(info.Adapter+" "+info.Driver), "NVIDIA") {
		return ""
	}
	b, err := os.ReadFile(nvidiaVersionFile)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Entry is one recorded verdict.
type Entry struct {
	Key
	Pass   bool `json:"pass"`
	Cases  int  `json:"cases"`
	Failed int  `json:"failed"`
	// Failure is the first failing case: op, case and what failed (the
	// element, got, want and bound).
	Failure string    `json:"failure,omitempty"`
	Seconds float64   `json:"seconds"`
	Time    time.Time `json:"time"`
}

// Verifier decides whether a backend needs the quick check, runs it, and
// keeps the verdicts. The zero value checks every hardware adapter with
// the quick suite and keeps no file.
type Verifier struct {
	// Cache is the verdict file; "" keeps verdicts for this run only.
	Cache string
	// Hardware reports whether the device info describes is one to verify;
	// nil means IsHardware. (Tests substitute it: lavapipe is not hardware.)
	Hardware func(backend.Info) bool
	// Check runs the conformance check on b; nil means conformance.Run at
	// conformance.Quick.
	Check func(b backend.Backend) []conformance.Result
}

// IsHardware reports whether info is a GPU adapter that is not a software
// rasteriser: the adapters train and bench verify on first use. Software
// adapters (lavapipe, llvmpipe) are what gputrain's own tests run on, and
// the CPU backend is the reference itself.
func IsHardware(info backend.Info) bool { return info.Kind == "gpu" && info.AdapterType != "cpu" }

// Outcome is what Verify did.
type Outcome struct {
	// Verified reports that the quick check passed on this adapter, driver
	// and shaders, now or on an earlier run (Cached).
	Verified bool
	Cached   bool
	// Entry is the verdict, when there is one.
	Entry Entry
	// Skipped says why no check was run or read, when none was.
	Skipped string
	// Cache is the verdict file, "" when there is none.
	Cache string
	// Note reports a verdict file that could not be read or written.
	Note string
}

// String is the banner's line: "verified (…)" or "not verified (…)".
func (o Outcome) String() string {
	switch {
	case o.Skipped != "":
		return "not verified (" + o.Skipped + ")"
	case o.Cached:
		return fmt.Sprintf("verified (the quick check passed %d cases on %s; recorded in %s)",
			o.Entry.Cases, o.Entry.Time.Local().Format("2006-01-02 15:04"), o.Cache)
	case o.Verified:
		s := fmt.Sprintf("verified (the quick check passed %d cases in %.1f s", o.Entry.Cases, o.Entry.Seconds)
		if o.Cache != "" {
			s += "; recorded in " + o.Cache
		}
		return s + ")"
	}
	return "not verified"
}

// FailedError reports that the quick check failed, now or on an earlier
// run: the device computes something outside its bounds.
type FailedError struct {
	Entry  Entry
	Cached bool   // the verdict was read from Cache
	Cache  string // the verdict file, "" when there is none
}

func (e *FailedError) Error() string {
	when := "the quick check failed"
	if e.Cached {
		when = fmt.Sprintf("the quick check failed on %s (recorded in %s)", e.Entry.Time.Local().Format("2006-01-02 15:04"), e.Cache)
	}
	driver := fmt.Sprintf("%q", e.Entry.Driver)
	if e.Entry.DriverVersion != "" {
		driver += " " + e.Entry.DriverVersion
	}
	return fmt.Sprintf("%s (%s, driver %s): %s: %d of %d cases failed; first: %s",
		e.Entry.Adapter, e.Entry.API, driver, when, e.Entry.Failed, e.Entry.Cases, e.Entry.Failure)
}

// Verify checks b unless it needs none (not hardware) or its verdict is
// recorded. It returns a *FailedError when the check fails now or failed
// when it was recorded; the failure is recorded too, so that the next run
// on the same adapter, driver and shaders stops at once.
func (v Verifier) Verify(b backend.Backend) (Outcome, error) {
	info := b.Info()
	hw := v.Hardware
	if hw == nil {
		hw = IsHardware
	}
	out := Outcome{Cache: v.Cache}
	if !hw(info) {
		switch {
		case info.Kind == "cpu":
			out.Skipped = "the CPU backend is the float64 reference the checks compare against"
		default:
			out.Skipped = fmt.Sprintf("a %s adapter is not checked on first use; `gputrain check` runs the suite on it", adapterKind(info))
		}
		return out, nil
	}
	key := KeyOf(info)
	if v.Cache != "" {
		f, err := read(v.Cache)
		if err != nil {
			out.Note = fmt.Sprintf("%v; checking afresh, the file will be rewritten", err)
		}
		if e, ok := f.find(key); ok {
			out.Entry, out.Cached = e, true
			if !e.Pass {
				return out, &FailedError{Entry: e, Cached: true, Cache: v.Cache}
			}
			out.Verified = true
			return out, nil
		}
	}
	check := v.Check
	if check == nil {
		check = func(b backend.Backend) []conformance.Result {
			return conformance.Run(b, conformance.Options{Size: conformance.Quick})
		}
	}
	start := time.Now()
	res := check(b)
	e := Entry{Key: key, Pass: true, Cases: len(res), Seconds: time.Since(start).Seconds(), Time: time.Now().UTC()}
	for _, r := range res {
		if r.Pass {
			continue
		}
		e.Pass = false
		e.Failed++
		if e.Failure == "" {
			e.Failure = Describe(r)
		}
	}
	if len(res) == 0 {
		e.Pass, e.Failure = false, "the check ran no cases"
	}
	out.Entry = e
	if v.Cache != "" {
		if err := record(v.Cache, e); err != nil {
			out.Note = fmt.Sprintf("check cache %s not saved: %v", v.Cache, err)
			out.Cache = ""
		}
	}
	if !e.Pass {
		return out, &FailedError{Entry: e, Cache: out.Cache}
	}
	out.Verified = true
	return out, nil
}

// Describe is a failing result in one line: op, case, and its first
// failure.
func Describe(r conformance.Result) string {
	s := r.Op
	if r.Case != "" {
		s += " " + r.Case
	}
	if len(r.Failures) > 0 {
		s += ": " + r.Failures[0]
	} else if r.MaxRatio > 1 {
		s += fmt.Sprintf(": error %.3gx its bound", r.MaxRatio)
	}
	return s
}

func adapterKind(info backend.Info) string {
	if info.AdapterType == "cpu" {
		return "software"
	}
	return strings.TrimSpace(info.AdapterType + " " + info.API)
}

// fileVersion changes when the file's meaning changes.
const fileVersion = 1

type file struct {
	Version int     `json:"version"`
	Entries []Entry `json:"entries"`
}

func (f file) find(k Key) (Entry, bool) {
	for _, e := range f.Entries {
		if e.Key == k {
			return e, true
		}
	}
	return Entry{}, false
}

// read reads the verdict file; a missing file is an empty one.
func read(path string) (file, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return file{Version: fileVersion}, nil
	}
	if err != nil {
		return file{}, fmt.Errorf("check cache: %w", err)
	}
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return file{}, fmt.Errorf("check cache %s: %w", path, err)
	}
	if f.Version != fileVersion {
		return file{}, fmt.Errorf("check cache %s: version %d, this build reads %d", path, f.Version, fileVersion)
	}
	return f, nil
}

// record merges e into the verdict file (replacing an entry of the same
// key) and writes it atomically.
func record(path string, e Entry) error {
	f, err := read(path)
	if err != nil {
		f = file{Version: fileVersion} // unreadable: replaced
	}
	replaced := false
	for i, old := range f.Entries {
		if old.Key == e.Key {
			f.Entries[i], replaced = e, true
		}
	}
	if !replaced {
		f.Entries = append(f.Entries, e)
	}
	return usercache.WriteJSON(path, f)
}
