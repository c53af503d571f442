//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/data"
)

// TestOutputsLikeARedirect: the files gputrain writes are as safe as a
// shell's > makes them (issue 19's third class): the umask and a replaced
// file's mode are kept, a read-only target, a name the file system
// refuses and a file of the --data folder are usage errors before any
// work.
func TestOutputsLikeARedirect(t *testing.T) {
	dir := t.TempDir()
	table := flatsCSV(t, dir, "flats.csv", 40, 0, true)
	model := filepath.Join(dir, "m.safetensors")
	code, _, stderr := gputrain(t, append([]string{"--device", "cpu", "--csv", table, "--target", "kind", "--save", model}, tableArgs...)...)
	require.Equal(t, 0, code, stderr)

	idx := filepath.Join(dir, "idx")
	require.NoError(t, os.Mkdir(idx, 0o755))
	readOnly := filepath.Join(dir, "ro.csv")
	require.NoError(t, os.WriteFile(readOnly, []byte("precious"), 0o444))
	long := filepath.Join(dir, strings.Repeat("n", 256))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"predict --out a read-only file", []string{"predict", "--device", "cpu", "--model", model, "--csv", table, "--out", readOnly},
			"--out " + readOnly + " is read-only: it is not replaced"},
		{"train --save a read-only file", []string{"--device", "cpu", "--save", readOnly}, "--save " + readOnly + " is read-only"},
		{"train --save a name too long", []string{"--device", "cpu", "--save", long}, "the file name is too long for the file system (256 bytes"},
		{"train --plot a name too long", []string{"--device", "cpu", "--plot", long + ".png"}, "the file name is too long"},
		{"train --save over a file of --data", []string{"--device", "cpu", "--data", idx, "--save", filepath.Join(idx, data.TrainImagesFile)},
			"is also the input --data: writing the checkpoint would destroy it"},
		{"train --save over a gzipped file of --data", []string{"--device", "cpu", "--data", idx, "--save", filepath.Join(idx, data.TestLabelsFile+".gz")},
			"is also the input --data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := listDir(t, dir)
			code, stdout, stderr := gputrain(t, tt.args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, tt.want)
			assert.NotContains(t, stderr, "device:", "no device opened")
			assert.Empty(t, stdout)
			assert.Equal(t, before, listDir(t, dir), "no file written")
			assert.Equal(t, "precious", string(readFile(t, readOnly)))
		})
	}

	t.Run("modes", func(t *testing.T) {
		old := syscall.Umask(0o077)
		defer syscall.Umask(old)
		out := filepath.Join(dir, "pred.csv")
		code, _, stderr := gputrain(t, "predict", "--device", "cpu", "--model", model, "--csv", table, "--out", out)
		require.Equal(t, 0, code, stderr)
		fi, err := os.Stat(out)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "a new file: 0666 less the umask")

		syscall.Umask(0o022)
		require.NoError(t, os.Chmod(out, 0o640))
		code, _, stderr = gputrain(t, "predict", "--device", "cpu", "--model", model, "--csv", table, "--out", out)
		require.Equal(t, 0, code, stderr)
		fi, err = os.Stat(out)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm(), "a replaced file keeps its mode")
	})

	t.Run("a name at the limit", func(t *testing.T) {
		// 250 bytes: the name is fine, and so is the temporary file's
		// (which used to be 15 bytes longer, over NAME_MAX, and lose the
		// model at the end).
		p := filepath.Join(dir, strings.Repeat("m", 250))
		code, _, stderr := gputrain(t, append([]string{"--device", "cpu", "--save", p}, small...)...)
		require.Equal(t, 0, code, stderr)
		_, err := os.Stat(p)
		assert.NoError(t, err)
	})
}
