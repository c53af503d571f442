package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/gputrain/gputrain/data"
)

func init() {
	register(&command{name: "download", summary: "download MNIST into the cache folder (checksums verified)", run: runDownload})
}

func runDownload(e *env, args []string) error {
	fs := newFlags(e, "download", "mnist [--dir DIR]")
	dir := fs.String("dir", "", "where to put the files (default: the cache folder, $GPUTRAIN_DATA or the user cache dir)")
	mirror := fs.String("mirror", data.MNISTMirror, "base `URL` of the four files")
	if len(args) == 0 || args[0] != "mnist" {
		return usagef("usage: gputrain download mnist [--dir DIR]")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	target := *dir
	if target != "" {
		if err := checkOutputDir("dir", target); err != nil {
			return err
		}
	}
	if target == "" {
		c, err := data.CacheDir()
		if err != nil {
			return err
		}
		target = filepath.Join(c, "mnist")
	}
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Minute)
	defer cancel()
	fmt.Fprintf(e.stderr, "downloading MNIST from %s into %s\n", *mirror, target)
	if err := data.Download(ctx, "mnist", target, *mirror, &http.Client{Timeout: 5 * time.Minute}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "MNIST is in %s (checksums verified); train with --data mnist\n", target)
	return nil
}
