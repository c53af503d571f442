package main

import (
	"flag"
	"fmt"
	"sort"
	"strings"
)

// preset is a named set of train flags.
type preset struct {
	doc   string
	flags map[string]string
}

// presets are what --preset accepts. A preset sets the flags the command
// line leaves unset; flags given explicitly win.
var presets = map[string]preset{
	"tutorial": {
		doc: "the classic numpy tutorial replayed: digits 0 and 1, 64-128-128-1 sigmoid, binary cross-entropy, plain SGD, lr 0.01, full batch, 10001 steps, the loss every 1000",
		flags: map[string]string{
			"data": "digits", "digits": "0,1", "hidden": "128,128", "activation": "sigmoid",
			"optimizer": "sgd", "lr": "0.01", "batch": "0", "epochs": "10001", "log-every": "1000",
		},
	},
}

// presetHelp lists the presets for --help.
func presetHelp() string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("set flags by name (explicit flags win): ")
	for i, n := range names {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s = %s (%s)", n, presetFlags(n), presets[n].doc)
	}
	return b.String()
}

// presetFlags is the command line a preset stands for.
func presetFlags(name string) string {
	p := presets[name]
	keys := make([]string, 0, len(p.flags))
	for k := range p.flags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = "--" + k + " " + p.flags[k]
	}
	return strings.Join(parts, " ")
}

// applyPreset sets the flags of the named preset that were not given on the
// command line.
func applyPreset(fs *flag.FlagSet, name string) error {
	p, ok := presets[strings.ToLower(name)]
	if !ok {
		names := make([]string, 0, len(presets))
		for n := range presets {
			names = append(names, n)
		}
		sort.Strings(names)
		return usagef("unknown --preset %q (want %s)", name, strings.Join(names, ", "))
	}
	if err := setUnset(fs, p.flags); err != nil {
		return fmt.Errorf("preset %s: %w", name, err) // a bug in the table
	}
	return nil
}

// presetData is the data source a preset sets, as flags ("--data digits
// --digits 0,1"), or "" for a preset that sets none (or no such preset).
func presetData(name string) string {
	p := presets[strings.ToLower(name)]
	var parts []string
	for _, k := range []string{"data", "digits"} {
		if v, ok := p.flags[k]; ok {
			parts = append(parts, "--"+k+" "+v)
		}
	}
	return strings.Join(parts, " ")
}
