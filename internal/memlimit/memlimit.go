// Package memlimit is gputrain's memory budget: every size that comes from
// input (a model's shape from flags or a checkpoint's metadata, a one-hot
// width, a table) is checked against it before it is allocated, so that a
// hostile or mistaken input is refused with the figure and the limit
// instead of killing the process with the Go runtime's "out of memory".
package memlimit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// ErrTooLarge is matched (with errors.Is) by every *Error.
var ErrTooLarge = errors.New("more memory than is available")

// Error says that something needs more memory than the budget allows.
type Error struct {
	What   string // what needs the memory, e.g. "training model 64-30000-30000-10"
	Need   uint64 // bytes needed
	Limit  uint64 // bytes available
	Source string // where the limit comes from, e.g. "MemAvailable in /proc/meminfo"
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s needs about %s of memory, more than the %s available (%s)", e.What, Bytes(e.Need), Bytes(e.Limit), e.Source)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *Error) Is(target error) bool { return target == ErrTooLarge }

// Budget returns the bytes this process may still allocate, and where that
// figure comes from: the least of the host's available memory (Linux:
// MemAvailable in /proc/meminfo), a cgroup v2 limit less its usage, the
// address-space limit (ulimit -v) less the address space in use, and the
// Go memory limit (GOMEMLIMIT) less what the Go runtime holds. Where none
// is known it returns math.MaxUint64.
func Budget() (uint64, string) {
	best, src := uint64(math.MaxUint64), "no limit known"
	take := func(v uint64, from string) {
		if v < best {
			best, src = v, from
		}
	}
	if v, ok := meminfo("/proc/meminfo", "MemAvailable"); ok {
		take(v, "MemAvailable in /proc/meminfo")
	}
	if v, ok := cgroupLeft(); ok {
		take(v, "the cgroup's memory.max")
	}
	if v, ok := addressSpaceLeft(); ok {
		take(v, "the address-space limit, ulimit -v")
	}
	if lim := debug.SetMemoryLimit(-1); lim > 0 && lim < math.MaxInt64 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		held := ms.Sys - ms.HeapReleased
		left := uint64(0)
		if uint64(lim) > held {
			left = uint64(lim) - held
		}
		take(left, "the Go memory limit, GOMEMLIMIT")
	}
	return best, src
}

// Check returns an *Error when need bytes exceed the Budget; what names
// what needs them.
func Check(what string, need uint64) error {
	limit, src := Budget()
	if need > limit {
		return &Error{What: what, Need: need, Limit: limit, Source: src}
	}
	return nil
}

// Mul returns a·b, saturating at math.MaxUint64 instead of overflowing.
func Mul(a, b uint64) uint64 {
	if a != 0 && b > math.MaxUint64/a {
		return math.MaxUint64
	}
	return a * b
}

// Add returns a+b, saturating at math.MaxUint64.
func Add(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

// Bytes formats n bytes for a message: "512 B", "3.2 MB", "17.1 GB", in
// powers of 1000 as disk and memory sizes are usually quoted.
func Bytes(n uint64) string {
	if n == math.MaxUint64 {
		return "more than 18 EB"
	}
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), 0
	for f >= unit && i < 6 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %cB", f, "kMGTPE"[i-1])
}

// meminfo reads the field key (in kB) of a /proc/meminfo-style file.
func meminfo(path, key string) (uint64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != key {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0, false
		}
		v, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, false
		}
		if len(f) > 1 && strings.EqualFold(f[1], "kB") {
			v = Mul(v, 1024)
		}
		return v, true
	}
	return 0, false
}

// cgroupLeft is the cgroup v2 memory.max of this process's cgroup less its
// memory.current, when both are readable and a limit is set.
func cgroupLeft() (uint64, bool) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		rest, ok := strings.CutPrefix(line, "0::")
		if !ok {
			continue
		}
		dir := "/sys/fs/cgroup" + rest
		max, ok1 := readUint(dir + "/memory.max")
		cur, ok2 := readUint(dir + "/memory.current")
		if !ok1 || !ok2 {
			return 0, false
		}
		if cur >= max {
			return 0, true
		}
		return max - cur, true
	}
	return 0, false
}

// readUint reads a file holding one number ("max" is no number).
func readUint(path string) (uint64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return v, err == nil
}
