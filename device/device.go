// Package device is gputrain's one device policy: which backend a --device
// choice names, and why it was picked. Every command that runs on a device
// (train, eval, predict, solve, regress, check, bench) opens it through Open.
package device

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/gpu"
)

// Choices are the values --device accepts (case-insensitive).
var Choices = []string{"auto", "gpu", "software", "cpu", "vulkan", "metal", "dx12", "gl"}

// Valid reports whether choice is one of Choices.
func Valid(choice string) bool {
	for _, c := range Choices {
		if strings.EqualFold(choice, c) {
			return true
		}
	}
	return false
}

// Open opens the backend that choice names and says why it was picked:
// "cpu" is the float64 reference; "auto" the best hardware GPU, or else the
// CPU backend (faster than a software adapter); anything else the GPU
// adapter gpu.Select picks for it. opts are the GPU backend's options; its
// Device is set from choice. The error is gpu.Open's, unwrapped.
func Open(choice string, opts gpu.Options) (backend.Backend, string, error) {
	switch c := strings.ToLower(choice); c {
	case "cpu":
		return cpuref.New(), "--device cpu asks for the float64 CPU backend", nil
	case "auto":
		opts.Device = "gpu"
		b, err := gpu.Open(opts)
		if err == nil {
			return b, "auto: best hardware GPU", nil
		}
		if errors.Is(err, gpu.ErrNoHardwareGPU) || errors.Is(err, gpu.ErrNoAdapter) {
			why := fmt.Sprintf("auto: %v; the CPU backend is faster than a software adapter (use --device software to run the shaders anyway)", err)
			return cpuref.New(), why, nil
		}
		return nil, "", err
	default:
		opts.Device = c
		b, err := gpu.Open(opts)
		if err != nil {
			return nil, "", err
		}
		return b, "--device " + c, nil
	}
}
