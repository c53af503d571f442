package benchstep_test

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"testing"

	"github.com/gputrain/gputrain/bench/benchstep"
	"github.com/gputrain/gputrain/cpuref"
)

// TestNumpyPeerComputesTheSameThing runs bench/numpy_mlp.py's seed preset
// for 200 steps and the same steps on the CPU backend: same data, same
// initial weights, same step. Both sides draw from splitmix64 (RNG here,
// bench/splitmix.py there): the data by SeedData's rule from
// RNG(SeedDataSeed); the weights layer by layer from RNG(SeedInitSeed),
// each (2u−1)·sqrt(6/(in+out)), which is nn's Xavier (nn.InitParamsFrom,
// given Source(RNG)) set on the model the Trainer steps; biases zero. The
// Go side runs nn.Trainer, the step nn.Train runs, so the final loss
// must agree to float64 rounding (1e-12 relative leaves room for the two
// sides' different summation orders over 200 steps, which in practice agree
// to the last digit or two). This is what makes BENCHMARKS.md's numpy
// ratios a comparison of equal work. It skips where no python3 has numpy
// (CI installs python3-numpy and sets GPUTRAIN_REQUIRE_PEERS=1 to fail
// instead).
func TestNumpyPeerComputesTheSameThing(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	python := pythonWithNumpy()
	if python == "" {
		if os.Getenv("GPUTRAIN_REQUIRE_PEERS") == "1" {
			t.Fatal("GPUTRAIN_REQUIRE_PEERS=1 but no python3 here can import numpy")
		}
		t.Skip("no python3 with numpy ($GPUTRAIN_PYTHON, python3, /usr/bin/python3); apt-get install python3-numpy")
	}
	const steps = 200
	out, err := exec.Command(python, "../../bench/numpy_mlp.py", "--preset", "seed", "--steps", "200").Output()
	if err != nil {
		t.Fatalf("numpy_mlp.py: %v", err)
	}
	var peer struct {
		FinalLoss     float64 `json:"final_loss"`
		FinalAccuracy float64 `json:"final_accuracy"`
		Steps         int     `json:"steps"`
	}
	if err := json.Unmarshal(out, &peer); err != nil {
		t.Fatalf("numpy_mlp.py printed %q: %v", out, err)
	}
	if peer.Steps != steps {
		t.Fatalf("numpy ran %d steps, want %d", peer.Steps, steps)
	}

	b := cpuref.New()
	defer b.Close()
	m, err := benchstep.New(b, benchstep.SeedSpec(), benchstep.SeedData(), benchstep.SeedRows, benchstep.SeedInitSeed)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Free()
	if err := m.Run(steps - 1); err != nil {
		t.Fatal(err)
	}
	loss, acc, err := m.Final()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after %d steps: gputrain cpu loss %.17g acc %.4f, numpy loss %.17g acc %.4f", steps, loss, acc, peer.FinalLoss, peer.FinalAccuracy)
	if d := math.Abs(loss-peer.FinalLoss) / peer.FinalLoss; !(d <= 1e-12) {
		t.Errorf("final loss %.17g, numpy's %.17g: relative difference %.3g > 1e-12", loss, peer.FinalLoss, d)
	}
	if acc != peer.FinalAccuracy {
		t.Errorf("final accuracy %v, numpy's %v", acc, peer.FinalAccuracy)
	}
}

// pythonWithNumpy returns the first of $GPUTRAIN_PYTHON, python3 and
// /usr/bin/python3 (Debian's, which python3-numpy serves, when another
// python3 comes first in PATH) that imports numpy, or "".
func pythonWithNumpy() string {
	for _, p := range []string{os.Getenv("GPUTRAIN_PYTHON"), "python3", "/usr/bin/python3"} {
		if p != "" && exec.Command(p, "-c", "import numpy").Run() == nil {
			return p
		}
	}
	return ""
}
