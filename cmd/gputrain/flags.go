package main

import (
	"flag"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// parseInts parses a comma-separated list of integers, e.g. "128,64".
func parseInts(flagName, s string, min int) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, usagef("--%s: %q is not an integer", flagName, f)
		}
		if v < min {
			return nil, usagef("--%s: %d must be at least %d", flagName, v, min)
		}
		out = append(out, v)
	}
	return out, nil
}

// parseFloats parses a comma-separated list of numbers.
func parseFloats(flagName, s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, usagef("--%s: %q is not a finite number", flagName, f)
		}
		out = append(out, v)
	}
	return out, nil
}

// checkLR rejects learning rates that cannot train.
func checkLR(lr float64) error {
	if math.IsNaN(lr) || math.IsInf(lr, 0) || lr <= 0 {
		return usagef("--lr %v must be a positive finite number", lr)
	}
	return nil
}

// adamWDecay is --weight-decay's value for --optimizer adamw when it is not
// given: PyTorch's AdamW default.
const adamWDecay = 0.01

// weightDecayHelp is --weight-decay's help, train's and sweep's.
const weightDecayHelp = "weight decay of the weights (not the biases): an L2 term wd·w added to the gradient for sgd, momentum and adam (PyTorch's weight_decay), the decoupled decay w -= lr·wd·w for adamw (default 0.01 there, PyTorch's AdamW); fused into the optimizer's update. 0 = none"

// checkWeightDecay checks a --weight-decay value.
func checkWeightDecay(wd float64) error {
	if math.IsNaN(wd) || math.IsInf(wd, 0) || wd < 0 {
		return usagef("--weight-decay %v must be 0 (none) or a positive finite number", wd)
	}
	return nil
}

// setFlags returns the names of the flags set so far: given on the command
// line, or set by a preset or a default (fs.Set).
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// setUnset sets the flags of values (name to value) that are not set yet,
// as a preset or the table defaults do: flags given win.
func setUnset(fs *flag.FlagSet, values map[string]string) error {
	set := setFlags(fs)
	for name, v := range values {
		if set[name] {
			continue
		}
		if err := fs.Set(name, v); err != nil {
			return fmt.Errorf("--%s %s: %w", name, v, err)
		}
	}
	return nil
}

// checkDistinct refuses a list flag that names a value twice, e.g.
// --digits 0,0: a usage error, as the flag's other mistakes are.
func checkDistinct(flagName string, vs []int) error {
	for i, v := range vs {
		if slices.Contains(vs[:i], v) {
			return usagef("--%s: %d is given twice", flagName, v)
		}
	}
	return nil
}
