package main

import (
	"fmt"
	"strings"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/device"
	"github.com/gputrain/gputrain/gpu"
)

const deviceHelp = "auto|gpu|software|cpu|vulkan|metal|dx12|gl: auto picks a hardware GPU when there is one, else the CPU backend"

// checkDevice validates a --device value up front, as a usage error.
func checkDevice(choice string) error {
	if device.Valid(choice) {
		return nil
	}
	return usagef("unknown --device %q (want one of %s)", choice, strings.Join(device.Choices, ", "))
}

// openDevice opens the backend that choice names (the policy of package
// device) and says why it was picked. autotune turns on the GPU
// matmul autotuner, whose choices persist in gpu.DefaultTuneCache.
func openDevice(choice string, autotune bool) (backend.Backend, string, error) {
	if err := checkDevice(choice); err != nil {
		return nil, "", err
	}
	b, why, err := device.Open(choice, gpu.Options{Autotune: autotune, TuneCache: gpu.DefaultTuneCache()})
	switch c := strings.ToLower(choice); {
	case err == nil:
		return b, why, nil
	case c == "auto":
		return nil, "", fmt.Errorf("open GPU: %w", err)
	default:
		return nil, "", fmt.Errorf("--device %s: %w", c, err)
	}
}

// announce prints which device runs the job.
func announce(e *env, b backend.Backend, why string, quiet bool) {
	if quiet {
		return
	}
	fmt.Fprintf(e.stderr, "device: %s\n        (%s)\n", b.Info(), why)
}
