package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gputrain/gputrain/web"
)

func init() {
	register(&command{name: "serve", summary: "serve the web page: train and check the GPU in a browser, on its WebGPU", run: runServe})
}

const serveSynopsis = `[--addr HOST:PORT]

Serves gputrain's web page: the same trainer and shaders compiled to
WebAssembly, running on the browser's WebGPU. Pick the built-in digits or
drop a CSV, set a few hyperparameters, press Train and watch the loss and
accuracy curves; download the checkpoint (gputrain eval --model reads it);
"Check this GPU" runs the quick conformance suite in the page. WebGPU needs
a secure context: open the page on 127.0.0.1 or localhost (or put it behind
HTTPS). A gputrain built without ` + "`go generate ./web`" + ` compiles the
WebAssembly at start-up, which needs Go and this module's source.`

func runServe(e *env, args []string) error {
	fs := newFlags(e, "serve", serveSynopsis)
	addr := fs.String("addr", "127.0.0.1:8080", "`HOST:PORT` to listen on")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := web.Load(e.ctx)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{Handler: web.Handler(a), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(e.stdout, "serving gputrain's page (WebAssembly %.1f MB, %s) at http://%s/ — Ctrl-C stops\n",
		float64(len(a.Wasm))/1e6, a.Source, l.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-e.ctx.Done():
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	}
}
