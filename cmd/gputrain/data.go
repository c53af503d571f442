package main

import (
	"fmt"
	"strings"

	"github.com/gputrain/gputrain/data"
)

const dataHelp = "synthetic (built-in, generated), mnist, fashion-mnist, or a directory holding the four MNIST-layout IDX files"

// loadData resolves and loads a named data set, keeping only digits when
// given (two digits make the binary task).
func loadData(name string, digits []int) (*data.Split, error) {
	var split *data.Split
	switch strings.ToLower(name) {
	case "synthetic", "":
		split = data.Synthetic(data.DefaultSyntheticTrain, data.DefaultSyntheticTest, 42)
	default:
		dir, err := data.Resolve(name)
		if err != nil {
			return nil, err
		}
		split, err = data.LoadIDX(dir)
		if err != nil {
			return nil, err
		}
	}
	if len(digits) > 0 {
		if len(digits) < 2 {
			return nil, usagef("--digits needs at least two classes, got %v", digits)
		}
		sub, err := split.Subset(digits)
		if err != nil {
			return nil, fmt.Errorf("--digits: %w", err)
		}
		split = sub
	}
	return split, nil
}
