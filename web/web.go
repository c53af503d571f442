// Package web serves gputrain's web page: the trainer compiled to
// WebAssembly (./wasm, GOOS=js GOARCH=wasm) on the browser's WebGPU, Go's
// wasm_exec.js loader and one HTML page (page/index.html) with the built-in
// digits or a dropped CSV, a few hyperparameters, live loss and accuracy
// curves, the checkpoint to download and a "Check this GPU" button that runs
// the conformance suite. `gputrain serve` serves it.
//
// The WebAssembly program and the loader are build products: `go generate
// ./web` writes them into assets/, where the next build of the gputrain
// command embeds them. A binary built without them builds them at start-up
// from the module's source (Load), which needs the Go toolchain and a
// checkout of the module: `go run ./cmd/gputrain serve` works either way.
package web

//go:generate go run ./internal/genassets assets

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// WasmName and LoaderName are the files of the build, as served and as
// written into assets/.
const (
	WasmName   = "gputrain.wasm"
	LoaderName = "wasm_exec.js"
)

//go:embed page/index.html
var indexHTML []byte

// assets holds the generated files when `go generate ./web` ran before the
// build (assets/README.md alone otherwise).
//
//go:embed assets
var assets embed.FS

// Assets are the page's build products.
type Assets struct {
	// Wasm is the trainer compiled for GOOS=js GOARCH=wasm.
	Wasm []byte
	// Loader is wasm_exec.js of the toolchain that compiled Wasm (the two
	// must match).
	Loader []byte
	// Source says where they came from: "embedded" or "built in 12.3 s".
	Source string
}

// Embedded returns the assets built into this binary; ok is false when it
// was built without running `go generate ./web` first.
func Embedded() (a Assets, ok bool) {
	w, err1 := assets.ReadFile("assets/" + WasmName)
	l, err2 := assets.ReadFile("assets/" + LoaderName)
	if err1 != nil || err2 != nil || len(w) == 0 || len(l) == 0 {
		return Assets{}, false
	}
	return Assets{Wasm: w, Loader: l, Source: "embedded"}, true
}

// Load returns the embedded assets, or builds them from the module's source
// when the binary has none (see Build).
func Load(ctx context.Context) (Assets, error) {
	if a, ok := Embedded(); ok {
		return a, nil
	}
	a, err := Build(ctx, "")
	if err != nil {
		return Assets{}, fmt.Errorf("this gputrain was built without the web page's WebAssembly (run `go generate ./web` before building it), and building it now failed: %w", err)
	}
	return a, nil
}

// ModulePath is the import path of the module whose ./web/wasm Build
// compiles.
const ModulePath = "github.com/gputrain/gputrain"

// goTool is the go command: the one on PATH, else the one of GOROOT.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if r := os.Getenv("GOROOT"); r != "" {
		return filepath.Join(r, "bin", "go")
	}
	return "go"
}

// Build compiles the page's WebAssembly with the Go toolchain in dir (""
// for the working directory), which must be inside a checkout of this
// module, and reads that toolchain's wasm_exec.js. It takes about 15 s on
// two cores from a cold cache.
func Build(ctx context.Context, dir string) (Assets, error) {
	start := time.Now()
	tmp, err := os.MkdirTemp("", "gputrain-wasm-")
	if err != nil {
		return Assets{}, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, WasmName)
	cmd := exec.CommandContext(ctx, goTool(), "build", "-trimpath", "-ldflags=-s -w", "-o", out, ModulePath+"/web/wasm")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return Assets{}, fmt.Errorf("go build %s/web/wasm: %w: %s", ModulePath, err, strings.TrimSpace(stderr.String()))
	}
	w, err := os.ReadFile(out)
	if err != nil {
		return Assets{}, err
	}
	root, err := goEnvGOROOT()
	if err != nil {
		return Assets{}, err
	}
	loader, err := readLoader(root)
	if err != nil {
		return Assets{}, err
	}
	return Assets{Wasm: w, Loader: loader, Source: fmt.Sprintf("built in %.1f s", time.Since(start).Seconds())}, nil
}

// goEnvGOROOT is the GOROOT of the go command Build runs.
func goEnvGOROOT() (string, error) {
	out, err := exec.Command(goTool(), "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOROOT: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// readLoader reads wasm_exec.js from a Go installation (lib/wasm since Go
// 1.24, misc/wasm before).
func readLoader(goroot string) ([]byte, error) {
	var errs []error
	for _, p := range []string{filepath.Join(goroot, "lib", "wasm", LoaderName), filepath.Join(goroot, "misc", "wasm", LoaderName)} {
		b, err := os.ReadFile(p)
		if err == nil {
			return b, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("reading Go's %s: %w", LoaderName, errors.Join(errs...))
}

// Handler serves the page at / (and /index.html), the loader and the
// WebAssembly program. The page needs a secure context for WebGPU:
// serve it on 127.0.0.1 or localhost, or behind HTTPS.
func Handler(a Assets) http.Handler {
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(indexHTML)
	}
	mux.HandleFunc("GET /{$}", page)
	mux.HandleFunc("GET /index.html", page)
	mux.HandleFunc("GET /"+LoaderName, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(a.Loader)
	})
	mux.HandleFunc("GET /"+WasmName, func(w http.ResponseWriter, r *http.Request) {
		// instantiateStreaming needs this type.
		w.Header().Set("Content-Type", "application/wasm")
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, WasmName, time.Time{}, bytes.NewReader(a.Wasm))
	})
	return mux
}
