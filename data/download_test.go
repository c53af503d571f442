package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSet replaces the MNIST checksums by those of small fake files served
// by a loopback httptest server, and returns the server and the files' content.
func fakeSet(t *testing.T, serve func(name string, good []byte) []byte) (*httptest.Server, map[string][]byte, *atomic.Int32) {
	t.Helper()
	content := map[string][]byte{
		TrainImagesFile + ".gz": gz(t, idxImages(6, 3, 2)),
		TrainLabelsFile + ".gz": gz(t, idxLabels(0, 1, 2, 1, 0, 9)),
		TestImagesFile + ".gz":  gz(t, idxImages(4, 3, 2)),
		TestLabelsFile + ".gz":  gz(t, idxLabels(1, 0, 9, 1)),
	}
	old := make(map[string]string, len(mnistSHA256))
	for name, b := range content {
		old[name] = mnistSHA256[name]
		sum := sha256.Sum256(b)
		mnistSHA256[name] = hex.EncodeToString(sum[:])
	}
	t.Cleanup(func() {
		for name, v := range old {
			mnistSHA256[name] = v
		}
	})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		name := strings.TrimPrefix(r.URL.Path, "/")
		good, ok := content[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(serve(name, good))
	}))
	t.Cleanup(srv.Close)
	return srv, content, &hits
}

func TestDownload(t *testing.T) {
	srv, content, hits := fakeSet(t, func(_ string, good []byte) []byte { return good })
	dir := filepath.Join(t.TempDir(), "sub", "mnist")
	require.NoError(t, Download(context.Background(), "mnist", dir, srv.URL, srv.Client()))
	for name, b := range content {
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, b, got)
	}
	ents, _ := os.ReadDir(dir)
	assert.Len(t, ents, 4, "no temporary files left")
	sp, err := LoadIDX(dir)
	require.NoError(t, err)
	assert.Equal(t, 6, sp.Train.Rows)

	// A second run finds the files verified and fetches nothing.
	n := hits.Load()
	require.NoError(t, Download(context.Background(), "mnist", dir, srv.URL+"/", srv.Client()))
	assert.Equal(t, n, hits.Load())
}

func TestDownloadChecksumMismatch(t *testing.T) {
	srv, _, _ := fakeSet(t, func(name string, good []byte) []byte {
		if name == TestImagesFile+".gz" {
			bad := append([]byte(nil), good...)
			bad[len(bad)/2] ^= 1 // same size, wrong bytes
			return bad
		}
		return good
	})
	dir := t.TempDir()
	err := Download(context.Background(), "mnist", dir, srv.URL, srv.Client())
	require.ErrorContains(t, err, "SHA-256")
	require.ErrorContains(t, err, TestImagesFile)
	_, statErr := os.Stat(filepath.Join(dir, TestImagesFile+".gz"))
	assert.ErrorIs(t, statErr, os.ErrNotExist)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		assert.NotContains(t, e.Name(), ".part", "temporary file left behind")
	}
}

func TestDownloadErrors(t *testing.T) {
	srv, _, _ := fakeSet(t, func(name string, good []byte) []byte {
		if name == TrainLabelsFile+".gz" {
			return good[:len(good)-1]
		}
		return good
	})
	dir := t.TempDir()
	err := Download(context.Background(), "mnist", dir, srv.URL, srv.Client())
	require.ErrorContains(t, err, "SHA-256 mismatch")
	_, statErr := os.Stat(filepath.Join(dir, TrainLabelsFile+".gz"))
	assert.ErrorIs(t, statErr, os.ErrNotExist)

	require.ErrorContains(t, Download(context.Background(), "cifar", dir, MNISTMirror, nil), "unknown data set")
	require.ErrorContains(t, Download(context.Background(), "mnist", dir, "not a url", nil), "bad base URL")

	// No network: a closed loopback port.
	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	err = Download(context.Background(), "mnist", t.TempDir(), url, nil)
	require.ErrorContains(t, err, url)
	require.ErrorContains(t, err, "connection refused")

	err = Download(context.Background(), "mnist", t.TempDir(), srv.URL+"/nothing-here/", nil)
	require.ErrorContains(t, err, "404")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = Download(ctx, "mnist", t.TempDir(), srv.URL, nil)
	require.ErrorIs(t, err, context.Canceled)
}

func TestResolve(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("GPUTRAIN_DATA", cache)
	c, err := CacheDir()
	require.NoError(t, err)
	assert.Equal(t, cache, c)

	_, err = Resolve("mnist")
	require.ErrorContains(t, err, "gputrain download mnist")

	mn := filepath.Join(cache, "mnist")
	require.NoError(t, os.MkdirAll(mn, 0o755))
	_, err = Resolve("mnist")
	require.ErrorContains(t, err, "gputrain download mnist")
	require.ErrorContains(t, err, "missing "+TrainImagesFile)
	for name, b := range map[string][]byte{TrainImagesFile: nil, TrainLabelsFile: nil, TestImagesFile: nil, TestLabelsFile + ".gz": nil} {
		writeFile(t, mn, name, b)
	}
	dir, err := Resolve("mnist")
	require.NoError(t, err)
	assert.Equal(t, mn, dir)

	old := fashionDir
	t.Cleanup(func() { fashionDir = old })
	fashionDir = filepath.Join(t.TempDir(), "absent")
	_, err = Resolve("fashion-mnist")
	require.ErrorContains(t, err, "apt-get install dataset-fashion-mnist")

	other := t.TempDir()
	dir, err = Resolve(other)
	require.NoError(t, err)
	assert.Equal(t, other, dir)
	_, err = Resolve(filepath.Join(other, "nope"))
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = Resolve(writeFile(t, other, "f", nil))
	require.ErrorContains(t, err, "not a directory")
}

// TestResolveFashionInstalled uses the Debian package when it is installed.
func TestResolveFashionInstalled(t *testing.T) {
	if _, err := os.Stat(FashionMNISTDir); err != nil {
		t.Skipf("%s absent (apt-get install dataset-fashion-mnist)", FashionMNISTDir)
	}
	dir, err := Resolve("fashion-mnist")
	require.NoError(t, err)
	assert.Equal(t, FashionMNISTDir, dir)
}
