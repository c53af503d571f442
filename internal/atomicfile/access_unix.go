//go:build unix

package atomicfile

import (
	"errors"
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// writable reports whether the user may write the file at path, as the
// kernel decides it (owner, group, ACLs), and whether its mode lets anyone
// write it: a file made read-only on purpose (chmod a-w) is not replaced
// even by root, who could.
func writable(path string, fi fs.FileInfo) bool {
	return fi.Mode().Perm()&0o222 != 0 && unix.Access(path, unix.W_OK) == nil
}

// processAlive reports whether a process with id pid exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
