package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteReplacesWhole(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	require.NoError(t, Write(p, func(w io.Writer) error { _, err := w.Write([]byte("old")); return err }))
	require.NoError(t, Write(p, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "new", string(b))
}

func TestFailedFillKeepsOldAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(p, []byte("old"), 0o644))
	boom := errors.New("boom")
	err := Write(p, func(w io.Writer) error {
		_, _ = w.Write([]byte("half"))
		return boom
	})
	assert.ErrorIs(t, err, boom)
	b, _ := os.ReadFile(p)
	assert.Equal(t, "old", string(b))
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestWriteBytes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	require.NoError(t, WriteBytes(p, []byte("abc")))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(b))
	assert.Error(t, WriteBytes(filepath.Join(p, "under-a-file"), []byte("x")), "the folder is a file")
}
