package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/gputrain/gputrain/internal/atomicfile"
)

// MNISTMirror is the default base URL that Download fetches MNIST from.
const MNISTMirror = "https://storage.googleapis.com/cvdf-datasets/mnist/"

// mnistSHA256 holds the SHA-256 sums of the four published MNIST files.
var mnistSHA256 = map[string]string{
	"train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
	"train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
	"t10k-images-idx3-ubyte.gz":  "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
	"t10k-labels-idx1-ubyte.gz":  "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

// maxDownload caps the size of one downloaded file (the largest MNIST file
// is under 10 MB).
const maxDownload = 64 << 20

// Download fetches the named data set ("mnist" is the only one) into dir,
// creating it if needed: the four gzip files from baseURL (for example
// MNISTMirror), each checked against its published SHA-256 sum. Each file is
// written to a temporary file in dir, synced and renamed into place, so a
// failed or interrupted download never leaves a partial or unverified file
// under the final name. Files already present with the right checksum are
// kept. A nil client means http.DefaultClient.
func Download(ctx context.Context, name, dir, baseURL string, client *http.Client) error {
	if name != "mnist" {
		return fmt.Errorf("data: download %q: unknown data set (only mnist can be downloaded; fashion-mnist comes with `apt-get install dataset-fashion-mnist`)", name)
	}
	if client == nil {
		client = http.DefaultClient
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data: download mnist: %w", err)
	}
	for _, base := range idxFiles {
		file := base + ".gz"
		want := mnistSHA256[file]
		dst := filepath.Join(dir, file)
		if sum, err := fileSHA256(dst); err == nil && sum == want {
			continue
		}
		u, err := joinURL(baseURL, file)
		if err != nil {
			return err
		}
		if err := downloadFile(ctx, client, u, dst, want); err != nil {
			return err
		}
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return nil
}

func joinURL(base, file string) (string, error) {
	b, err := url.Parse(base)
	if err != nil || b.Scheme == "" || b.Host == "" {
		return "", fmt.Errorf("data: download: bad base URL %q (want e.g. %s)", base, MNISTMirror)
	}
	if !strings.HasSuffix(b.Path, "/") {
		b.Path += "/"
	}
	return b.JoinPath(file).String(), nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// downloadFile fetches u into dst through a temporary file, checking the
// SHA-256 sum before renaming it into place.
func downloadFile(ctx context.Context, client *http.Client, u, dst, want string) (err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("data: download %s: %w", u, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("data: download %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("data: download %s: server answered %s", u, resp.Status)
	}
	// The file appears only once its checksum is right; a failed or
	// corrupt download leaves nothing behind.
	err = atomicfile.Write(dst, func(w io.Writer) error {
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(resp.Body, maxDownload+1))
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", n, err)
		}
		if n > maxDownload {
			return fmt.Errorf("larger than %d bytes", maxDownload)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			return fmt.Errorf("SHA-256 mismatch: got %s, want %s (%d bytes received); nothing was written", got, want, n)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("data: download %s: %w", u, err)
	}
	return nil
}
