//go:build !js

package gpu

// The native side of the seams between the host and the binding: what
// wgpu-native offers and a browser's WebGPU does not, or offers differently
// (web.go holds the browser's side). Everything else in this package is
// shared by both.

import (
	"fmt"
	"time"

	"github.com/cogentcore/webgpu/wgpu"
)

// querySet is the binding's query set (web.go: none in the browser).
type querySet = wgpu.QuerySet

// adapterHasTimestamps reports the adapter's "timestamp-query" feature.
func adapterHasTimestamps(a *wgpu.Adapter) bool { return a.HasFeature(wgpu.FeatureNameTimestampQuery) }

// adapterInfo is the binding's description of a.
func adapterInfo(a *wgpu.Adapter) wgpu.AdapterInfo { return a.GetInfo() }

// requestDevice opens a device on ad as desc asks.
func requestDevice(ad *wgpu.Adapter, desc *wgpu.DeviceDescriptor) (*wgpu.Device, error) {
	return ad.RequestDevice(desc)
}

// releaseDevice releases the device when its backend closes.
func releaseDevice(d *wgpu.Device) { d.Release() }

// writeBuffer queues a write of data into buf at off.
func writeBuffer(q *wgpu.Queue, buf *wgpu.Buffer, off uint64, data []byte) error {
	return q.WriteBuffer(buf, off, data)
}

// releaseBuffer releases a buffer the backend no longer uses; recorded work
// that uses it has been submitted (see freeLocked).
func releaseBuffer(b *wgpu.Buffer) { b.Release() }

// createQuerySet creates a timestamp query set of n queries.
func createQuerySet(dev *wgpu.Device, label string, n uint32) (*querySet, error) {
	return dev.CreateQuerySet(&wgpu.QuerySetDescriptor{Label: label, Type: wgpu.QueryTypeTimestamp, Count: n})
}

// resolveQuerySet records the resolve of queries first … first+n−1 of qs
// into dst at byte offset off.
func resolveQuerySet(enc *wgpu.CommandEncoder, qs *querySet, first, n uint32, dst *wgpu.Buffer, off uint64) error {
	return enc.ResolveQuerySet(qs, first, n, dst, off)
}

// newComputePipeline builds the compute pipeline of mod's entry point main
// with the explicit layout pll (both targets need explicit layouts: the
// browser binding cannot send "auto").
func newComputePipeline(dev *wgpu.Device, label string, pll *wgpu.PipelineLayout, mod *wgpu.ShaderModule) (*wgpu.ComputePipeline, error) {
	return dev.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{
		Label:   label,
		Layout:  pll,
		Compute: wgpu.ProgrammableStageDescriptor{Module: mod, EntryPoint: "main"},
	})
}

// scopeSubmit opens what the browser needs around the finish and submit
// of a command buffer, and returns what closes it (web.go: an error scope);
// nothing here, where the binding's calls return their errors.
func scopeSubmit(*wgpu.Device) func() { return func() {} }

// endComputePass ends a compute pass.
func endComputePass(p *wgpu.ComputePassEncoder) error { return p.End() }

// wait blocks until the queue is empty. It polls without blocking and sleeps
// with a backoff (20 µs up to 1 ms): wgpu's blocking poll gives up after
// about 5 s of queued work, and on lavapipe the process then segfaulted
// (gfx-rs/wgpu#4589; TestLongQueueThenSync guards this).
func (b *Backend) wait() {
	sleep := 20 * time.Microsecond
	deadline := time.Now().Add(20 * time.Minute)
	for !b.dev.Poll(false, nil) {
		if time.Now().After(deadline) {
			b.fail(fmt.Errorf("%w: queue still busy after 20 minutes", ErrDeviceLost))
			return
		}
		time.Sleep(sleep)
		sleep = min(sleep*3/2, time.Millisecond)
	}
}
