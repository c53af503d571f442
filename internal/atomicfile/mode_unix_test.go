//go:build unix

package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestModesLikeARedirect: a new file gets 0666 less the umask, a replaced
// one keeps its mode, as a shell's > does.
func TestModesLikeARedirect(t *testing.T) {
	tests := []struct {
		name     string
		umask    int
		existing fs.FileMode // 0: no file before
		want     fs.FileMode
	}{
		{"new, umask 022", 0o022, 0, 0o644},
		{"new, umask 077", 0o077, 0, 0o600},
		{"new, umask 002", 0o002, 0, 0o664},
		{"replaced private file", 0o022, 0o600, 0o600},
		{"replaced group-writable file", 0o077, 0o664, 0o664},
		{"replaced executable", 0o022, 0o755, 0o755},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "model.safetensors")
			if tt.existing != 0 {
				require.NoError(t, os.WriteFile(p, []byte("old"), 0o600))
				require.NoError(t, os.Chmod(p, tt.existing))
			}
			old := syscall.Umask(tt.umask)
			err := WriteBytes(p, []byte("new"))
			syscall.Umask(old)
			require.NoError(t, err)
			fi, err := os.Stat(p)
			require.NoError(t, err)
			assert.Equal(t, tt.want, fi.Mode().Perm())
			assert.Equal(t, "new", string(readAll(t, p)))
		})
	}
}

func readAll(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

// TestReadOnlyTargetRefused: a file made read-only (no write bit for
// anyone) is refused by Write and Check, even for root, and kept byte for
// byte.
func TestReadOnlyTargetRefused(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.csv")
	require.NoError(t, os.WriteFile(p, []byte("precious"), 0o444))
	err := WriteBytes(p, []byte("new"))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrReadOnly)
	assert.ErrorIs(t, err, fs.ErrPermission)
	assert.Contains(t, err.Error(), p+" is read-only")
	assert.Equal(t, "precious", string(readAll(t, p)))
	assert.ErrorIs(t, Check(p), ErrReadOnly)
	names, _ := os.ReadDir(dir)
	assert.Len(t, names, 1, "no temporary file left")
}

// TestCheckNames: Check creates and removes the very name, so a name the
// file system refuses (longer than NAME_MAX) fails it, and one at the
// limit passes and is written (its temporary file's name is cut).
func TestCheckNames(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, strings.Repeat("m", 256))
	err := Check(long)
	require.Error(t, err)
	assert.ErrorIs(t, err, syscall.ENAMETOOLONG)

	limit := filepath.Join(dir, strings.Repeat("m", 255))
	require.NoError(t, Check(limit))
	_, err = os.Stat(limit)
	assert.ErrorIs(t, err, fs.ErrNotExist, "Check leaves nothing behind")
	require.NoError(t, WriteBytes(limit, []byte("x")))
	assert.Equal(t, "x", string(readAll(t, limit)))

	require.ErrorContains(t, Check(dir), "not a regular file")
	require.Error(t, Check(filepath.Join(dir, "no-such-folder", "f")))
}

// TestStaleTempFilesRemoved: a temporary file left by a killed process
// (its id no longer exists) is removed by the next write to the same
// target; one of a live process, and other files, are kept.
func TestStaleTempFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "model.safetensors")
	dead := filepath.Join(dir, ".model.safetensors.2147483646-0123456789ab.tmp")
	live := filepath.Join(dir, ".model.safetensors.1-0123456789ab.tmp") // init never dies
	other := filepath.Join(dir, ".other.safetensors.2147483646-0123456789ab.tmp")
	odd := filepath.Join(dir, ".model.safetensors.2147483646.tmp")
	for _, f := range []string{dead, live, other, odd} {
		require.NoError(t, os.WriteFile(f, []byte("half"), 0o644))
	}
	require.NoError(t, WriteBytes(p, []byte("x")))
	_, err := os.Stat(dead)
	assert.ErrorIs(t, err, fs.ErrNotExist, "the dead process's temporary file is removed")
	for _, f := range []string{live, other, odd} {
		_, err := os.Stat(f)
		assert.NoError(t, err, f)
	}
}
