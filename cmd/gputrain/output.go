package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gputrain/gputrain/internal/atomicfile"
	"github.com/gputrain/gputrain/nn"
)

// output is a file a command writes, named by the flag that gave its path.
type output struct {
	flag, path string
	what       string // what it holds, for messages: "the checkpoint", "the plot"
	// keeps, for an input, names the output flag that may name the same
	// file: --save may write over --resume's checkpoint.
	keeps string
}

// checkOutputs checks, before any work, that every output with a path can
// be written: the path is not a folder or some other non-file, its folder
// exists, and a file can be created in that folder. No output may name one
// of inputs (a data file the command reads: writing it would destroy it),
// and no two outputs the same file. Any failure is a usage error naming the
// flag and the path.
func checkOutputs(inputs []output, outs ...output) error {
	var seen []output
	for _, o := range outs {
		if o.path == "" {
			continue
		}
		if err := checkOutput(o); err != nil {
			return err
		}
		for _, in := range inputs {
			if in.path != "" && in.keeps != o.flag && sameFile(o.path, in.path) {
				return usagef("--%s %s is also the input %s: writing %s would destroy it; choose another path", o.flag, o.path, inputName(in), o.what)
			}
		}
		for _, p := range seen {
			if sameFile(o.path, p.path) {
				return usagef("--%s and --%s both name %s: give each its own file", p.flag, o.flag, o.path)
			}
		}
		if ext := strings.ToLower(filepath.Ext(o.path)); o.flag == "plot" && ext != "" && ext != ".png" {
			return usagef("--plot %s: plots are written as PNG only; name the file .png (not %s)", o.path, ext)
		}
		seen = append(seen, o)
	}
	return nil
}

func inputName(in output) string {
	if in.flag == "" {
		return in.what
	}
	return "--" + in.flag
}

// checkOutput checks that o.path can be written.
func checkOutput(o output) error {
	fi, err := os.Stat(o.path)
	switch {
	case errors.Is(err, syscall.ENAMETOOLONG):
		return nameTooLong(o)
	case err == nil && fi.IsDir():
		return usagef("--%s %s is a folder; give the path of a file in it, e.g. %s", o.flag, o.path, filepath.Join(o.path, exampleName(o)))
	case err == nil && !fi.Mode().IsRegular():
		return usagef("--%s %s is not a regular file (a device, pipe or socket); give the path of a file", o.flag, o.path)
	case err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
		return usagef("--%s %s: %v", o.flag, o.path, err)
	}
	dir := filepath.Dir(o.path)
	di, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return usagef("--%s %s: the folder %s does not exist; create it first (mkdir -p %s)", o.flag, o.path, dir, dir)
	case err != nil:
		return usagef("--%s %s: %v", o.flag, o.path, err)
	case !di.IsDir():
		return usagef("--%s %s: %s is not a folder", o.flag, o.path, dir)
	}
	if err := canCreateIn(dir); err != nil {
		return usagef("--%s %s: cannot write in the folder %s: %v", o.flag, o.path, dir, unwrapPath(err))
	}
	// The very file: read-only is refused, and a new name is created and
	// removed, so that a name the file system refuses (longer than
	// NAME_MAX) fails here, not after the work.
	switch err := atomicfile.Check(o.path); {
	case errors.Is(err, atomicfile.ErrReadOnly):
		return usagef("--%s %v", o.flag, err)
	case errors.Is(err, syscall.ENAMETOOLONG):
		return nameTooLong(o)
	case err != nil:
		return usagef("--%s %s: cannot create the file: %v", o.flag, o.path, unwrapPath(err))
	}
	return nil
}

func nameTooLong(o output) error {
	return usagef("--%s %s: the file name is too long for the file system (%d bytes; most allow 255): choose a shorter one", o.flag, o.path, len(filepath.Base(o.path)))
}

// canCreateIn creates and removes a file in dir: the test that permission
// bits alone cannot give (a read-only file system, ACLs, root).
func canCreateIn(dir string) error {
	f, err := os.CreateTemp(dir, ".gputrain-write-check-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// unwrapPath drops the path of a *PathError: the message names it already.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func exampleName(o output) string {
	switch o.flag {
	case "save":
		return "model.safetensors"
	case "plot":
		return "plot.png"
	}
	return "out.csv"
}

// sameFile reports whether paths a and b name the same file: the same
// existing file, or the same absolute path.
func sameFile(a, b string) bool {
	if fa, err := os.Stat(a); err == nil {
		if fb, err := os.Stat(b); err == nil {
			return os.SameFile(fa, fb)
		}
	}
	aa, err1 := filepath.Abs(a)
	ab, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == ab
}

// testHookWrite, when set (by tests), runs before every output write, e.g.
// to remove the folder after checkOutputs passed, as a user might.
var testHookWrite func(path string)

// writeOutput writes o with write(path), which must write the whole file
// (atomically: atomicfile.Write). When that fails — a full disk, a folder
// removed since checkOutputs — it writes the same to a fallback path, a new
// file named after o in the temporary folder or else the working folder,
// and returns that path with a *rescuedError naming both: the result is
// never dropped. It returns o.path and nil on success, and "" with an error
// naming every path tried when nothing could be written.
func writeOutput(o output, write func(path string) error) (string, error) {
	if testHookWrite != nil {
		testHookWrite(o.path)
	}
	err := write(o.path)
	if err == nil {
		return o.path, nil
	}
	if !fileSystemError(err) {
		return "", err // e.g. nothing to plot: the same anywhere
	}
	tried := []string{fmt.Sprintf("%s (%v)", o.path, err)}
	for _, dir := range fallbackDirs() {
		p, ferr := reserve(dir, o.path)
		if ferr == nil {
			if ferr = write(p); ferr == nil {
				return p, &rescuedError{out: o, err: err, to: p}
			}
			os.Remove(p)
		}
		tried = append(tried, fmt.Sprintf("%s (%v)", dir, ferr))
	}
	return "", fmt.Errorf("--%s: could not write %s anywhere: tried %s", o.flag, o.what, strings.Join(tried, "; "))
}

// fileSystemError reports whether err came from the file system (a full
// disk, a missing folder, a permission), which another path may not meet.
func fileSystemError(err error) bool {
	var pe *os.PathError
	var le *os.LinkError
	var errno syscall.Errno
	return errors.As(err, &pe) || errors.As(err, &le) || errors.As(err, &errno)
}

// fallbackDirs are where writeOutput rescues a result: the temporary
// folder, then the working folder.
func fallbackDirs() []string {
	dirs := []string{os.TempDir()}
	if wd, err := os.Getwd(); err == nil && wd != dirs[0] {
		dirs = append(dirs, wd)
	}
	return dirs
}

// reserve creates a new, empty file in dir named after path, e.g.
// gputrain-rescued-123456-model.safetensors, and returns its path.
func reserve(dir, path string) (string, error) {
	f, err := os.CreateTemp(dir, "gputrain-rescued-*-"+filepath.Base(path))
	if err != nil {
		return "", err
	}
	name := f.Name()
	return name, f.Close()
}

// rescuedError says that an output could not be written where its flag said
// and where it was written instead.
type rescuedError struct {
	out output
	err error
	to  string
}

func (e *rescuedError) Error() string {
	return fmt.Sprintf("--%s: could not write %s to %s: %v; it was written to %s instead", e.out.flag, e.out.what, e.out.path, e.err, e.to)
}

func (e *rescuedError) Unwrap() error { return e.err }

// writeFile is write for writeOutput: fill writes path's content,
// atomically.
func writeFile(fill func(w io.Writer) error) func(path string) error {
	return func(path string) error { return atomicfile.Write(path, fill) }
}

// writeBytes is write for writeOutput of content held in memory.
func writeBytes(b []byte) func(path string) error {
	return func(path string) error { return atomicfile.WriteBytes(path, b) }
}

// checkpointer writes train's --save checkpoints one loss reading behind
// (nn.Checkpointer: the file only ever holds a state a later reading
// showed to be sound). The end of a run (and an interrupt) writes the
// state then directly (Save). A failed write goes to a fallback path
// (writeOutput), and so do the writes after it.
type checkpointer struct {
	nn.Checkpointer
	e       *env
	out     output
	rescued *rescuedError // where the writes went when out.path failed
}

func newCheckpointer(e *env, path string) *checkpointer {
	c := &checkpointer{e: e, out: output{flag: "save", path: path, what: "the checkpoint"}}
	if path != "" {
		c.Write = c.put
	}
	return c
}

// put writes a checkpoint to --save's path, or where the first failure
// sent it.
func (c *checkpointer) put(b []byte, _ int) error {
	o := c.out
	if c.rescued != nil {
		o.path = c.rescued.to // go on where the first failure sent it
	}
	p, err := writeOutput(o, writeBytes(b))
	var re *rescuedError
	switch {
	case errors.As(err, &re):
		if c.rescued == nil {
			c.rescued = re
			fmt.Fprintf(c.e.stderr, "warning: %v; training goes on, saving there\n", re)
		}
		c.rescued.to = p
	case err != nil:
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// path is where the checkpoint is: --save's path or the fallback.
func (c *checkpointer) path() string {
	if c.rescued != nil {
		return c.rescued.to
	}
	return c.out.path
}

// kept says what the checkpoint file holds after a divergence.
func (c *checkpointer) kept() string {
	switch {
	case c.Saved() > 0:
		return fmt.Sprintf("the checkpoint in %s is kept: epoch %d, the last state a later loss reading vouched for", c.path(), c.Saved())
	case fileExists(c.out.path):
		return fmt.Sprintf("%s is kept as it was: this run wrote nothing to it", c.out.path)
	}
	return fmt.Sprintf("nothing was written to %s: no state of this run was vouched for", c.out.path)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// checkOutputDir checks, before any work, that the folder dir can be
// written into, or created (with its parents) and then written into: an
// existing dir must be a folder, and the nearest existing folder above a
// missing one must let a file be created. A failure is a usage error naming
// the flag.
func checkOutputDir(flag, dir string) error {
	probe := filepath.Clean(dir)
	for {
		fi, err := os.Stat(probe)
		switch {
		case err == nil && !fi.IsDir():
			if probe == filepath.Clean(dir) {
				return usagef("--%s %s is a file, not a folder", flag, dir)
			}
			return usagef("--%s %s: %s is a file, not a folder", flag, dir, probe)
		case err == nil:
			if err := canCreateIn(probe); err != nil {
				return usagef("--%s %s: cannot write in the folder %s: %v", flag, dir, probe, unwrapPath(err))
			}
			return nil
		case !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return usagef("--%s %s: %v", flag, dir, err)
		}
		up := filepath.Dir(probe)
		if up == probe {
			return usagef("--%s %s: no folder of it exists", flag, dir)
		}
		probe = up
	}
}
