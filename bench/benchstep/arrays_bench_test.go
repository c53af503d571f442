package benchstep

import (
	"fmt"
	"testing"
	"time"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/gpu/gputest"
	"github.com/gputrain/gputrain/nn"
)

// arraySpec is the model-array workload: 64-128-64-10, sigmoid,
// softmax, SGD, batch 32, on 2048 random rows.
var arraySpec = Spec{Model: nn.Spec{Inputs: 64, Hidden: []int{128, 64}, Outputs: 10, Activation: backend.Sigmoid, Head: nn.SoftmaxHead},
	Optimizer: nn.SGD, LR: 0.01}

// BenchmarkModelArray times one training step of model arrays of N = 1, 4,
// 16 and 64 members of arraySpec at batch 32, on the CPU reference and on
// the GPU where there is one: model·samples/s (N · 32 rows a step over
// the wall time, syncs included) and host-µs/step (the time to record a
// step, which on the CPU is the step itself).
func BenchmarkModelArray(b *testing.B) {
	d := RandomData(2048, 64, 10, 1)
	devices := []struct {
		name string
		open func(b *testing.B) backend.Backend
	}{
		{"cpu", func(*testing.B) backend.Backend { return cpuref.New() }},
		{"gpu", func(b *testing.B) backend.Backend { return gputest.Open(b) }},
	}
	for _, dev := range devices {
		for _, n := range []int{1, 4, 16, 64} {
			b.Run(fmt.Sprintf("%s/models=%d", dev.name, n), func(b *testing.B) {
				be := dev.open(b)
				spec := arraySpec
				spec.Models = n
				w, err := New(be, spec, d, 32, 1)
				if err != nil {
					b.Fatal(err)
				}
				defer w.Free()
				if err := w.Run(3); err != nil { // warm: pipelines, bind groups
					b.Fatal(err)
				}
				var host time.Duration
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					t := time.Now()
					w.Step()
					host += time.Since(t)
					if i%64 == 63 {
						if err := be.Sync(); err != nil {
							b.Fatal(err)
						}
					}
				}
				if err := be.Sync(); err != nil {
					b.Fatal(err)
				}
				wall := time.Since(start)
				b.ReportMetric(float64(n*w.Batch()*b.N)/wall.Seconds(), "model·samples/s")
				b.ReportMetric(float64(host.Microseconds())/float64(b.N), "host-µs/step")
			})
		}
	}
}
