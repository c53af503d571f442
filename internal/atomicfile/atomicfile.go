// Package atomicfile writes files so that a reader, or a crash, never sees
// half of one: the content goes to a temporary file in the same folder, which
// is synced, closed and renamed over the target, and then the folder is
// synced so the rename itself is durable.
//
// A file written here is as safe as a shell redirect (>) makes it: a new
// file gets mode 0666 less the umask, a replaced file keeps its mode, and a
// file the user may not write, or that has no write permission for anyone
// (chmod a-w: read-only on purpose, which root too is refused), is refused,
// not replaced.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrReadOnly is matched (with errors.Is) by the error of writing over a
// file that the user may not write; it also matches fs.ErrPermission.
var ErrReadOnly = errors.New("read-only file")

type readOnlyError struct{ path string }

func (e *readOnlyError) Error() string {
	return fmt.Sprintf("%s is read-only: it is not replaced (make it writable, e.g. chmod u+w, or choose another path)", e.path)
}

func (e *readOnlyError) Is(target error) bool {
	return target == ErrReadOnly || target == fs.ErrPermission
}

// maxTempBase is the most bytes of the target's name a temporary file's
// name repeats, so that it stays within NAME_MAX (255 bytes on common file
// systems) whenever the target's name does.
const maxTempBase = 200

// tempPrefix is the start of the temporary files' names for path: the
// target's name (cut to maxTempBase bytes) between a dot and a dot.
func tempPrefix(path string) string {
	base := filepath.Base(path)
	if len(base) > maxTempBase {
		base = base[:maxTempBase]
	}
	return "." + base + "."
}

// createTemp creates a new temporary file for path in its folder, named
// .NAME.PID-RANDOM.tmp, with mode 0666 less the umask (the mode a redirect
// gives a new file).
func createTemp(path string) (*os.File, error) {
	dir := filepath.Dir(path)
	var b [6]byte
	for range 100 {
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		name := filepath.Join(dir, tempPrefix(path)+strconv.Itoa(os.Getpid())+"-"+hex.EncodeToString(b[:])+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("%s: could not create a temporary file", dir)
}

// removeStale removes the temporary files for path that a killed process
// left: those named by createTemp after a process that no longer exists.
// Files of live processes (another writer) are left alone, and so are
// names that are not exactly createTemp's.
func removeStale(path string) {
	dir := filepath.Dir(path)
	prefix := tempPrefix(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		rest, ok = strings.CutSuffix(rest, ".tmp")
		pidText, random, ok2 := strings.Cut(rest, "-")
		if !ok || !ok2 || len(random) != 12 {
			continue
		}
		if _, err := hex.DecodeString(random); err != nil {
			continue
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
}

// Write creates or replaces path with what fill writes. A new file gets
// mode 0666 less the umask; a replaced file keeps its permission bits; a
// file the user may not write is refused with an error matching
// ErrReadOnly and left as it is. If fill (or any step) fails, the temporary
// file is removed, path keeps its old content, and the error is returned:
// fill's error as it is, the others wrapped with the step that failed.
// Temporary files for path left by a killed process are removed first.
func Write(path string, fill func(w io.Writer) error) (err error) {
	mode, exists, err := targetMode(path)
	if err != nil {
		return err
	}
	removeStale(path)
	tmp, err := createTemp(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = fill(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if exists {
		if err = os.Chmod(tmp.Name(), mode); err != nil {
			return err
		}
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// targetMode returns the permission bits of the file at path and whether
// it exists; a file the user may not write is an error.
func targetMode(path string) (fs.FileMode, bool, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	case fi.Mode().IsRegular() && !writable(path, fi):
		return 0, false, &readOnlyError{path}
	}
	return fi.Mode().Perm(), true, nil
}

// Check checks, without writing anything lasting, that Write(path) can
// succeed as far as the file system can tell beforehand: an existing path
// must be a regular file the user may write; a missing one is created and
// removed again, which proves its folder writable and its name acceptable
// to the file system (not longer than NAME_MAX, no characters it refuses),
// as are the temporary files' names, which are no longer.
func Check(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", path)
	case err == nil:
		if !writable(path, fi) {
			return &readOnlyError{path}
		}
		return probe(filepath.Dir(path))
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(path)
}

// probe creates and removes a temporary file in dir.
func probe(dir string) error {
	f, err := os.CreateTemp(dir, ".gputrain-write-check-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// SyncDir fsyncs a folder so that renames in it are durable. File systems
// that cannot sync a folder are not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}

// WriteBytes is Write of the bytes b.
func WriteBytes(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
