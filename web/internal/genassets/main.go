// Command genassets writes the web page's build products (see package web)
// into the directory named by its argument: `go generate ./web` runs it.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gputrain/gputrain/web"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: genassets DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "genassets:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	a, err := web.Build(context.Background(), "")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, web.WasmName), a.Wasm, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, web.LoaderName), a.Loader, 0o644); err != nil {
		return err
	}
	fmt.Printf("genassets: %s (%d bytes) and %s in %s, %s\n", web.WasmName, len(a.Wasm), web.LoaderName, dir, a.Source)
	return nil
}
