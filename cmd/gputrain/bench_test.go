package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/gpu/gputest"
)

// TestBenchKernelColumn runs gputrain bench on the CPU and the test
// adapter (the software one unless GPUTRAIN_TEST_DEVICE names another):
// kernel_seconds is null on the CPU, a positive time per step on the
// adapter where it has timestamp queries (lavapipe has, GL adapters have
// not), and null with --timestamps=false. host_seconds and
// dispatches_per_step are null on the CPU and set on the adapter, with or
// without timestamps.
func TestBenchKernelColumn(t *testing.T) {
	gputest.Open(t) // skips without an adapter (fails under GPUTRAIN_REQUIRE_GPU=1)
	dev := gputest.Device()
	if dev == "any" {
		dev = "software"
	}
	tests := []struct {
		name       string
		args       []string
		timestamps bool
	}{
		{"timestamps", nil, true},
		{"timestamps off", []string{"--timestamps=false"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"bench", "--device", "cpu," + dev, "--batch", "8", "--hidden", "16",
				"--data", "random", "--steps", "2", "--reps", "2", "--json"}, tt.args...)
			code, stdout, stderr := gputrain(t, args...)
			require.Equal(t, 0, code, stderr)
			var rep struct {
				Results []struct {
					Device        string   `json:"device"`
					Backend       string   `json:"backend"`
					API           string   `json:"api"`
					Skipped       string   `json:"skipped"`
					Step          float64  `json:"step_seconds_median"`
					KernelSeconds *float64 `json:"kernel_seconds"`
					HostSeconds   *float64 `json:"host_seconds"`
					Dispatches    *float64 `json:"dispatches_per_step"`
				} `json:"results"`
			}
			require.NoError(t, json.Unmarshal([]byte(stdout), &rep), stdout)
			require.Len(t, rep.Results, 2)
			for _, r := range rep.Results {
				require.Empty(t, r.Skipped, r.Device)
				if r.Backend == "cpu" {
					assert.Nil(t, r.HostSeconds, r.Device)
					assert.Nil(t, r.Dispatches, r.Device)
				} else if assert.NotNil(t, r.HostSeconds, r.Device) && assert.NotNil(t, r.Dispatches, r.Device) {
					assert.Positive(t, *r.HostSeconds)
					assert.Positive(t, *r.Dispatches)
					t.Logf("%s: host %.3g s per step, %v dispatches per step", r.Device, *r.HostSeconds, *r.Dispatches)
				}
				if r.Backend == "cpu" || r.API == "gl" || !tt.timestamps {
					assert.Nil(t, r.KernelSeconds, r.Device)
					continue
				}
				require.NotNil(t, r.KernelSeconds, r.Device)
				assert.Positive(t, *r.KernelSeconds)
				assert.LessOrEqual(t, *r.KernelSeconds, 2*r.Step, "medians of different repetitions, but of the same order")
				t.Logf("%s: step %.3g s, kernel %.3g s", r.Device, r.Step, *r.KernelSeconds)
			}
		})
	}
}

// TestBenchDataPixelScale: bench feeds the network the features train
// does: it hands nn the set itself, whose pixels nn gathers with the set's
// scale (the digits' 1/16, 8-bit images' 1/255); it once scaled every set
// by 1/255.
func TestBenchDataPixelScale(t *testing.T) {
	digits, err := loadData("digits", nil)
	require.NoError(t, err)
	synthetic, err := loadData("synthetic", nil)
	require.NoError(t, err)
	for _, tt := range []struct {
		name  string
		set   *data.Set
		scale float64
	}{
		{"digits", digits.Train, 1.0 / 16},
		{"synthetic", synthetic.Train, 1.0 / 255},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.set
			d, classes, err := benchData(s)
			require.NoError(t, err)
			assert.Equal(t, s.Classes, classes)
			// bench trains on the set itself, through nn's Trainer, which
			// gathers pixels with the set's own scale as train does.
			require.Same(t, s, d)
			require.NotNil(t, d.Pixels)
			assert.Equal(t, tt.scale, d.PixelScale())
		})
	}
}
