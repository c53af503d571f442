package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/gpu"
)

// deviceChoices are the values --device accepts.
var deviceChoices = []string{"auto", "gpu", "software", "cpu", "vulkan", "metal", "dx12", "gl"}

const deviceHelp = "auto|gpu|software|cpu|vulkan|metal|dx12|gl: auto picks a hardware GPU when there is one, else the CPU backend"

// checkDevice validates a --device value up front, as a usage error.
func checkDevice(choice string) error {
	for _, c := range deviceChoices {
		if strings.EqualFold(choice, c) {
			return nil
		}
	}
	return usagef("unknown --device %q (want one of %s)", choice, strings.Join(deviceChoices, ", "))
}

// openDevice opens the backend that choice names and says why it was picked.
// autotune turns on the GPU matmul autotuner, whose choices persist in
// gpu.DefaultTuneCache.
func openDevice(choice string, autotune bool) (backend.Backend, string, error) {
	if err := checkDevice(choice); err != nil {
		return nil, "", err
	}
	switch c := strings.ToLower(choice); c {
	case "cpu":
		return cpuref.New(), "--device cpu asks for the float64 CPU backend", nil
	case "auto":
		b, err := gpu.Open(gpu.Options{Device: "gpu", Autotune: autotune, TuneCache: gpu.DefaultTuneCache()})
		if err == nil {
			return b, "auto: best hardware GPU", nil
		}
		if errors.Is(err, gpu.ErrNoHardwareGPU) || errors.Is(err, gpu.ErrNoAdapter) {
			why := fmt.Sprintf("auto: %v; the CPU backend is faster than a software adapter (use --device software to run the shaders anyway)", err)
			return cpuref.New(), why, nil
		}
		return nil, "", fmt.Errorf("open GPU: %w", err)
	default:
		b, err := gpu.Open(gpu.Options{Device: c, Autotune: autotune, TuneCache: gpu.DefaultTuneCache()})
		if err != nil {
			return nil, "", fmt.Errorf("--device %s: %w", c, err)
		}
		return b, "--device " + c, nil
	}
}

// announce prints which device runs the job.
func announce(e *env, b backend.Backend, why string, quiet bool) {
	if quiet {
		return
	}
	fmt.Fprintf(e.stderr, "device: %s\n        (%s)\n", b.Info(), why)
}
