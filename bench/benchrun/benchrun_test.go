package benchrun

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/bench/benchstep"
	"github.com/gputrain/gputrain/gpu/gputest"
	"github.com/gputrain/gputrain/nn"
)

// TestRunSmall runs a tiny sweep on the CPU and the software adapter (a
// skipped result where there is none) and checks every output format.
func TestRunSmall(t *testing.T) {
	t.Setenv("GPUTRAIN_TUNE_CACHE", filepath.Join(t.TempDir(), "autotune.json"))
	cfg := Config{
		Devices: []string{"cpu", "software", "auto"},
		Batches: []int{1, 16, 1000},
		Spec: benchstep.Spec{Model: nn.Spec{Inputs: 32, Hidden: []int{16}, Outputs: 4, Activation: backend.Sigmoid,
			Head: nn.SoftmaxHead}, Optimizer: nn.SGD, LR: 0.1},
		Data:      benchstep.RandomData(200, 32, 4, 1),
		DataName:  "random",
		Reps:      3,
		RepTarget: 5 * time.Millisecond,
		MaxSteps:  20,
		Autotune:  true,
	}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	measured := 0
	for _, r := range rep.Results {
		if r.Skipped != "" {
			t.Logf("skipped %s batch %d: %s", r.Device, r.Batch, r.Skipped)
			continue
		}
		measured++
		if r.StepSecondsMedian <= 0 || r.GFLOPS <= 0 || r.Reps != 3 || r.DeviceBytes == 0 {
			t.Errorf("bad result %+v", r)
		}
		if r.Batch == 1000 && (!r.FullBatch || r.Batch != 1000) && r.Batch != 200 {
			t.Errorf("batch above the data set is not full batch: %+v", r)
		}
		if gpu := r.Backend == "gpu"; gpu != (r.HostSeconds != nil) || gpu != (r.DispatchesPerStep != nil) {
			t.Errorf("%s batch %d: host_seconds %v, dispatches_per_step %v (want both on a GPU, neither on the CPU)",
				r.Device, r.Batch, r.HostSeconds, r.DispatchesPerStep)
		} else if gpu && (*r.HostSeconds <= 0 || *r.DispatchesPerStep < 1 || len(r.HostSecondsReps) != r.Reps) {
			t.Errorf("%s batch %d: host %v s, %v dispatches per step, reps %v", r.Device, r.Batch, *r.HostSeconds, *r.DispatchesPerStep, r.HostSecondsReps)
		}
	}
	if measured < 3 {
		t.Fatalf("only %d results measured", measured)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, rep); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + buf.String())
	if !strings.Contains(buf.String(), "n/a") {
		t.Error("table has no kernel-time column")
	}
	buf.Reset()
	if err := WriteCSV(&buf, rep); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != len(rep.Results)+1 {
		t.Errorf("CSV has %d lines for %d results", n, len(rep.Results))
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(js, &back); err != nil || len(back.Results) == 0 || back.Results[0]["step_seconds_median"] == nil {
		t.Fatalf("JSON %s: %v", js, err)
	}
	png := filepath.Join(t.TempDir(), "b.png")
	if err := WritePlot(png, rep); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(png); err != nil || st.Size() < 1000 {
		t.Fatalf("plot: %v", err)
	}
}

// TestSeedPresetShort runs the seed preset for a few steps on the CPU.
func TestSeedPresetShort(t *testing.T) {
	rep, err := Run(context.Background(), Config{Devices: []string{"cpu"}, Preset: "seed", Steps: 20, Reps: 1})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Results[0]
	if r.Skipped != "" || r.WallSeconds <= 0 || r.Steps != 20 || r.Batch != benchstep.SeedRows || r.FinalLoss <= 0 {
		t.Fatalf("bad preset result %+v", r)
	}
}

// TestKernelSeconds checks the KERNEL column: GPU kernel time per step
// where timestamps are recorded (the software Vulkan adapter has timestamp
// queries), n/a on the CPU backend and with timestamps off. A repetition's
// kernel time per step never exceeds its step time.
func TestKernelSeconds(t *testing.T) {
	spec := benchstep.Spec{Model: nn.Spec{Inputs: 16, Hidden: []int{8}, Outputs: 4, Activation: backend.ReLU,
		Head: nn.SoftmaxHead}, Optimizer: nn.SGD, LR: 0.1}
	tests := []struct {
		name       string
		device     string
		preset     string
		timestamps bool
		want       bool
	}{
		{"cpu backend", "cpu", "", true, false},
		{"software adapter, timestamps", "software", "", true, true},
		{"software adapter, timestamps off", "software", "", false, false},
		{"seed preset, software adapter", "software", "seed", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Devices: []string{tt.device}, Batches: []int{8}, Spec: spec,
				Data: benchstep.RandomData(64, 16, 4, 1), DataName: "random",
				Steps: 3, Reps: 2, Timestamps: tt.timestamps, Preset: tt.preset}
			rep, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := rep.Results[0]
			if r.Skipped != "" {
				if tt.device != "cpu" && !gputest.Required() {
					t.Skipf("no software adapter: %s", r.Skipped)
				}
				t.Fatalf("skipped: %s", r.Skipped)
			}
			var table bytes.Buffer
			if err := WriteTable(&table, rep); err != nil {
				t.Fatal(err)
			}
			js, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want {
				if r.KernelSeconds != nil || r.KernelSecondsReps != nil {
					t.Fatalf("kernel time %v %v, want none", *r.KernelSeconds, r.KernelSecondsReps)
				}
				if tt.preset == "" && !strings.Contains(table.String(), "n/a") {
					t.Errorf("no n/a in the table:\n%s", table.String())
				}
				if !strings.Contains(string(js), `"kernel_seconds":null`) {
					t.Errorf("JSON %s", js)
				}
				return
			}
			if r.KernelSeconds == nil {
				t.Fatalf("no kernel time on %s", r.Adapter)
			}
			k := *r.KernelSeconds
			t.Logf("%s: step %s, kernel %s, reps %v", r.Adapter, Dur(r.StepSecondsMedian), Dur(k), r.KernelSecondsReps)
			if k <= 0 || len(r.KernelSecondsReps) != r.Reps {
				t.Fatalf("kernel %v, reps %v", k, r.KernelSecondsReps)
			}
			for i, kr := range r.KernelSecondsReps {
				if kr <= 0 || kr > r.StepSecondsReps[i] {
					t.Errorf("repetition %d: kernel %v s per step, step %v s", i, kr, r.StepSecondsReps[i])
				}
			}
			if tt.preset == "" && !strings.Contains(table.String(), Dur(k)) {
				t.Errorf("kernel %s not in the table:\n%s", Dur(k), table.String())
			}
		})
	}
}
