package gpu

import (
	"fmt"
	"testing"
	"time"

	"github.com/gputrain/gputrain/bench/benchstep"
	"github.com/gputrain/gputrain/bench/benchstep/benchtest"
	"github.com/gputrain/gputrain/nn"
)

// BenchmarkHostSplit splits the host's side of a 784-128-64-10 step (batch
// 1, SGD, timestamps on as in gputrain bench) into its parts: recording
// (the operations up to the dispatches in the open compute pass: this
// package and the binding), ending the pass (wgpu-native encodes and checks
// the recorded dispatches and the driver records them) and submitting
// (finish, params upload, queue submit). An op is a round of 32 or 100
// steps recorded with the device idle and submitted; the wait for the
// device is not timed. Each round queues the device's work for its steps,
// which on a software adapter takes seconds, so run it with few rounds:
//
//	go test -run '^$' -bench HostSplit -benchtime 10x ./gpu
func BenchmarkHostSplit(bb *testing.B) {
	b := openInternalWith(bb, Options{Device: "any", Timestamps: true})
	spec := benchtest.MLPSpec(nn.SGD)
	m, err := benchstep.New(b, spec, benchstep.RandomData(1024, 784, 10, 7), 1, 1)
	if err != nil {
		bb.Fatal(err)
	}
	defer m.Free()
	if err := m.Run(benchstep.HostSteps); err != nil {
		bb.Fatal(err)
	}
	for _, per := range []int{benchstep.HostSteps, 100} {
		bb.Run(fmt.Sprintf("steps_per_submit_%d", per), func(bb *testing.B) {
			var record, end, submit time.Duration
			d0 := b.Dispatches()
			bb.ResetTimer()
			for range bb.N {
				t0 := time.Now()
				for range per {
					m.Step()
				}
				t1 := time.Now()
				b.mu.Lock()
				b.endPass()
				t2 := time.Now()
				b.submit()
				t3 := time.Now()
				b.mu.Unlock()
				bb.StopTimer()
				if err := b.Sync(); err != nil {
					bb.Fatal(err)
				}
				bb.StartTimer()
				record, end, submit = record+t1.Sub(t0), end+t2.Sub(t1), submit+t3.Sub(t2)
			}
			steps := float64(bb.N * per)
			us := func(d time.Duration) float64 { return d.Seconds() * 1e6 / steps }
			bb.ReportMetric(us(record), "record-us/step")
			bb.ReportMetric(us(end), "pass-end-us/step")
			bb.ReportMetric(us(submit), "submit-us/step")
			bb.ReportMetric(us(record+end+submit), "host-us/step")
			bb.ReportMetric(float64(b.Dispatches()-d0)/steps, "dispatches/step")
		})
	}
}
