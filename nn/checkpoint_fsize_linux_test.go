package nn_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/nn"
)

// TestSaveFailsMidWriteKeepsOldCheckpoint makes the kernel refuse the write
// of the new checkpoint part way (RLIMIT_FSIZE, which root cannot bypass
// either; Go ignores the SIGXFSZ it raises, so write returns EFBIG): the old
// checkpoint stays byte-identical and loadable, and the partial temporary
// file is removed.
func TestSaveFailsMidWriteKeepsOldCheckpoint(t *testing.T) {
	b := cpuref.New()
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	first := newModel(t, b, blobSpec, 1)
	require.NoError(t, first.Save(path))
	old, err := os.ReadFile(path)
	require.NoError(t, err)

	second := newModel(t, b, blobSpec, 2)
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim))
	small := lim
	small.Cur = uint64(len(old) / 2)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &small))
	err = second.Save(path)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim))

	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	assert.ErrorIs(t, err, syscall.EFBIG)
	now, rerr := os.ReadFile(path)
	require.NoError(t, rerr)
	assert.Equal(t, old, now, "the old checkpoint is byte-identical")
	assert.Equal(t, []string{"model.safetensors"}, dirNames(t, dir), "the partial temporary file is removed")

	l, err := nn.Load(path, b)
	require.NoError(t, err)
	defer l.Free()
	want, _ := first.Params()
	got, _ := l.Params()
	assert.Equal(t, want, got, "the old checkpoint still loads")
}
