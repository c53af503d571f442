package shaders

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"sync"
)

var fingerprint = sync.OnceValue(func() string {
	h := sha256.New()
	// ReadDir lists the files sorted by name, so the hash is stable.
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return "unknown"
	}
	for _, e := range entries {
		b, err := files.ReadFile(e.Name())
		if err != nil {
			return "unknown"
		}
		h.Write([]byte(e.Name()))
		h.Write([]byte{0})
		h.Write(b)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
})

// Fingerprint identifies this build's shaders: 16 hex digits of a SHA-256
// over every embedded file, snippets included, with its name. Any edit to
// any shader changes it, so results recorded for one set of shaders (such
// as a device's verification verdict) are not taken for another.
func Fingerprint() string { return fingerprint() }
