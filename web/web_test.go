package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHandler checks what the page needs from the server without a
// browser: the page, the loader, and the program with the type that
// WebAssembly.instantiateStreaming requires.
func TestHandler(t *testing.T) {
	a := Assets{Wasm: []byte("\x00asm\x01\x00\x00\x00"), Loader: []byte("// loader")}
	srv := httptest.NewServer(Handler(a))
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		res, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, string(b)
	}
	for _, p := range []string{"/", "/index.html"} {
		res, body := get(p)
		assert.Equal(t, http.StatusOK, res.StatusCode, p)
		assert.True(t, strings.HasPrefix(res.Header.Get("Content-Type"), "text/html"), p)
		for _, want := range []string{`src="wasm_exec.js"`, `fetch("gputrain.wasm")`, "globalThis.wasm = wasm", `id="train"`, `id="check"`, `id="download"`, "navigator.gpu"} {
			assert.Contains(t, body, want, p)
		}
	}
	res, body := get("/" + WasmName)
	assert.Equal(t, "application/wasm", res.Header.Get("Content-Type"))
	assert.Equal(t, string(a.Wasm), body)
	res, body = get("/" + LoaderName)
	assert.True(t, strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript"))
	assert.Equal(t, string(a.Loader), body)
	res, _ = get("/nothing")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

// TestReadLoader finds wasm_exec.js in this toolchain (lib/wasm since Go
// 1.24).
func TestReadLoader(t *testing.T) {
	root, err := goEnvGOROOT()
	require.NoError(t, err)
	b, err := readLoader(root)
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(b), "globalThis.Go = class"), "%s does not define Go", LoaderName)
	_, err = readLoader(t.TempDir())
	assert.ErrorContains(t, err, LoaderName)
}
