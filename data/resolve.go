package data

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FashionMNISTDir is where Debian's package dataset-fashion-mnist installs
// Fashion-MNIST; Resolve("fashion-mnist") returns it.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// fashionDir is FashionMNISTDir, replaceable in tests.
var fashionDir = FashionMNISTDir

// CacheDir returns the folder where downloaded data sets are kept:
// $GPUTRAIN_DATA when set, else the user's cache folder
// (os.UserCacheDir) + "/gputrain". It does not create the folder.
func CacheDir() (string, error) {
	if d := os.Getenv("GPUTRAIN_DATA"); d != "" {
		return d, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("data: no cache folder (set GPUTRAIN_DATA): %w", err)
	}
	return filepath.Join(c, "gputrain"), nil
}

// Resolve maps a data set name to the directory that holds its IDX files:
// "fashion-mnist" is FashionMNISTDir (install it with
// `apt-get install dataset-fashion-mnist`; CacheDir()/fashion-mnist, as
// filled by Download, is used when FashionMNISTDir is absent), "mnist" is CacheDir()/mnist
// (fill it with `gputrain download mnist`), and anything else is taken as a
// directory path, which must exist. For the two names, Resolve also checks
// that the four files are there.
func Resolve(name string) (dir string, err error) {
	switch name {
	case "fashion-mnist":
		if c, err := CacheDir(); !isDir(fashionDir) && err == nil && checkIDXFiles(filepath.Join(c, "fashion-mnist")) == nil {
			return filepath.Join(c, "fashion-mnist"), nil
		}
		if !isDir(fashionDir) {
			return "", fmt.Errorf("data: fashion-mnist not found in %s: install it with `sudo apt-get install dataset-fashion-mnist`", fashionDir)
		}
		if err := checkIDXFiles(fashionDir); err != nil {
			return "", fmt.Errorf("%w (reinstall with `sudo apt-get install --reinstall dataset-fashion-mnist`)", err)
		}
		return fashionDir, nil
	case "mnist":
		c, err := CacheDir()
		if err != nil {
			return "", err
		}
		dir := filepath.Join(c, "mnist")
		if !isDir(dir) {
			return "", fmt.Errorf("data: mnist is not downloaded (no folder %s): run `gputrain download mnist`", dir)
		}
		if err := checkIDXFiles(dir); err != nil {
			return "", fmt.Errorf("%w: run `gputrain download mnist`", err)
		}
		return dir, nil
	}
	st, err := os.Stat(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("data: %q is neither a known data set (digits, synthetic, mnist, fashion-mnist) nor an existing directory: %w", name, err)
		}
		return "", fmt.Errorf("data: %w", err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("data: %s: not a directory (want a folder holding the four MNIST-layout IDX files)", name)
	}
	return name, nil
}

// checkIDXFiles reports the first of the four MNIST-layout files missing
// from dir.
func checkIDXFiles(dir string) error {
	for _, base := range idxFiles {
		if _, err := findIDXFile(dir, base); err != nil {
			return err
		}
	}
	return nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// IDXPaths returns the paths of the files LoadIDX reads for the data set
// name as Resolve resolves it: each of the four MNIST-layout files, raw and
// gzip-compressed, whether it exists or not (e.g. so that no output of a
// run is written over one of them). It returns nil for the built-in sets
// (digits, synthetic) and for a name Resolve does not resolve.
func IDXPaths(name string) []string {
	switch strings.ToLower(name) {
	case "", "digits", "synthetic":
		return nil
	}
	dir, err := Resolve(name)
	if err != nil {
		return nil
	}
	var ps []string
	for _, base := range idxFiles {
		ps = append(ps, filepath.Join(dir, base), filepath.Join(dir, base+".gz"))
	}
	return ps
}
