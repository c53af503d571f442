// Package usercache names the files gputrain keeps between runs in the
// user's cache folder (os.UserCacheDir, e.g. ~/.cache on Linux), each of
// which an environment variable can move or switch off.
package usercache

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"

	"github.com/gputrain/gputrain/internal/atomicfile"
)

// File returns the path of the cache file name in gputrain's folder of the
// user's cache directory. When the environment variable env is set it
// wins: its value is the path, or "off" for no file (""). Without env and
// without a user cache directory, File returns "" as well. It does not
// create the folder.
func File(env, name string) string {
	if p, ok := os.LookupEnv(env); ok {
		if p == "off" {
			return ""
		}
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "gputrain", name)
}

// WriteJSON writes v as indented JSON to path, atomically (see package
// atomicfile), creating path's folder if need be.
func WriteJSON(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}
