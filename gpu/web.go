//go:build js

package gpu

// The browser's side of the seams between the host and the binding (see
// native.go): gputrain built with GOOS=js GOARCH=wasm runs on the page's
// WebGPU (navigator.gpu) through the binding's js backend. That backend
// (cogentcore/webgpu v0.23.0) lacks some of the API the host uses, and what
// it has behaves differently in ways that matter here (see
// ../shared/notes/browser-webgpu.md, all measured in Chromium):
//
//   - no Go errors: every Create* succeeds and validation errors arrive
//     later as "uncapturederror" events. Each device gets an error sink
//     that collects them; wait and readMapped report them, and pipeline
//     creation runs in an error scope so that a shader that the browser's
//     compiler rejects fails kernelFor with the compiler's own message;
//   - DeviceDescriptor.RequiredLimits is ignored, so requestDevice asks
//     the browser itself for the adapter's limits;
//   - Device.Poll does nothing, so wait awaits queue.onSubmittedWorkDone;
//   - MapAsync reports success even when the map failed, so readback maps
//     through the JavaScript API and copies once;
//   - Adapter.GetInfo is empty, so adapterInfo reads adapter.info;
//   - no query sets and no timestamp writes for compute passes: the
//     backend records no timestamps in the browser (KernelTime reports the
//     time unavailable, and the bench says n/a);
//   - Release does nothing, so buffers are destroyed and the device too.
//
// Queue.WriteBuffer goes through jsx.BytesToJS, which reads the Go
// program's memory through globalThis.wasm: the page's loader must set it
// to the instantiated module (see cmd/gputrain's web page).
//
// Blocking: every wait here (a promise, through jsx.Await) parks the
// calling goroutine until the browser settles the promise. That is fine
// from main or any goroutine, and a deadlock from inside a js.FuncOf
// callback: pages must start Go work from callbacks with `go`.

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall/js"
	"unsafe"

	"github.com/cogentcore/webgpu/jsx"
	"github.com/cogentcore/webgpu/wgpu"
)

// jsValueOf returns the JavaScript object behind a binding object. Every
// type of the binding's js backend is struct{ jsValue js.Value }; the
// array sizes below fail to compile if one of the types used with it ever
// has another size.
func jsValueOf[T any](p *T) js.Value { return *(*js.Value)(unsafe.Pointer(p)) }

const jsValueSize = unsafe.Sizeof(js.Value{})

var (
	_ [unsafe.Sizeof(wgpu.Adapter{}) - jsValueSize]struct{}
	_ [jsValueSize - unsafe.Sizeof(wgpu.Adapter{})]struct{}
	_ [unsafe.Sizeof(wgpu.Device{}) - jsValueSize]struct{}
	_ [jsValueSize - unsafe.Sizeof(wgpu.Device{})]struct{}
	_ [unsafe.Sizeof(wgpu.Buffer{}) - jsValueSize]struct{}
	_ [jsValueSize - unsafe.Sizeof(wgpu.Buffer{})]struct{}
	_ [unsafe.Sizeof(wgpu.Queue{}) - jsValueSize]struct{}
	_ [jsValueSize - unsafe.Sizeof(wgpu.Queue{})]struct{}
	_ [unsafe.Sizeof(wgpu.ComputePassEncoder{}) - jsValueSize]struct{}
	_ [jsValueSize - unsafe.Sizeof(wgpu.ComputePassEncoder{})]struct{}
	_ [unsafe.Sizeof(wgpu.ComputePipeline{}) - jsValueSize]struct{}
	_ [jsValueSize - unsafe.Sizeof(wgpu.ComputePipeline{})]struct{}
	_ [unsafe.Sizeof(wgpu.BindGroup{}) - jsValueSize]struct{}
	_ [jsValueSize - unsafe.Sizeof(wgpu.BindGroup{})]struct{}
	_ [unsafe.Sizeof(wgpu.ShaderModule{}) - jsValueSize]struct{}
	_ [jsValueSize - unsafe.Sizeof(wgpu.ShaderModule{})]struct{}
)

// errNoTimestamps: the binding's js backend has no query sets.
var errNoTimestamps = errors.New("gpu: no timestamp queries in the browser binding")

// querySet stands in for the binding's query set, which its js backend
// lacks; none is ever created.
type querySet struct{}

func (*querySet) Release() {}

// adapterHasTimestamps is false: the js backend cannot begin compute passes
// that write timestamps, so the backend never asks for the feature.
func adapterHasTimestamps(*wgpu.Adapter) bool { return false }

func createQuerySet(*wgpu.Device, string, uint32) (*querySet, error) { return nil, errNoTimestamps }

func resolveQuerySet(*wgpu.CommandEncoder, *querySet, uint32, uint32, *wgpu.Buffer, uint64) error {
	return errNoTimestamps
}

// beginTimedPass is never called in the browser (no timer is created).
func beginTimedPass(*wgpu.CommandEncoder, *querySet, uint32, uint32) *wgpu.ComputePassEncoder {
	return nil
}

// adapterInfo reads the adapter's GPUAdapterInfo (the binding's GetInfo is
// empty). A fallback adapter, such as Chromium's SwiftShader, is a CPU one.
func adapterInfo(a *wgpu.Adapter) wgpu.AdapterInfo {
	v := jsValueOf(a)
	info := v.Get("info")
	out := wgpu.AdapterInfo{BackendType: wgpu.BackendTypeWebGPU, AdapterType: wgpu.AdapterTypeUnknown}
	if info.Type() != js.TypeObject {
		return out
	}
	str := func(k string) string {
		if s := info.Get(k); s.Type() == js.TypeString {
			return strings.TrimSpace(s.String())
		}
		return ""
	}
	out.VendorName, out.Architecture, out.DriverDescription = str("vendor"), str("architecture"), str("description")
	var parts []string
	for _, s := range []string{out.VendorName, out.Architecture, str("device")} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	out.Name = strings.Join(parts, " ")
	if out.DriverDescription != "" {
		out.Name = out.DriverDescription
	}
	if info.Get("isFallbackAdapter").Truthy() || v.Get("isFallbackAdapter").Truthy() || out.Architecture == "swiftshader" {
		out.AdapterType = wgpu.AdapterTypeCPU
	}
	return out
}

// deviceLimits are the limits requestDevice asks for, by their JavaScript
// names: those the backend relies on (WebGPU's defaults are smaller than
// most adapters', e.g. 16 KiB of workgroup memory).
func deviceLimits(l wgpu.Limits) map[string]any {
	return map[string]any{
		"maxBufferSize":                             l.MaxBufferSize,
		"maxStorageBufferBindingSize":               l.MaxStorageBufferBindingSize,
		"maxComputeWorkgroupStorageSize":            l.MaxComputeWorkgroupStorageSize,
		"maxComputeInvocationsPerWorkgroup":         l.MaxComputeInvocationsPerWorkgroup,
		"maxComputeWorkgroupSizeX":                  l.MaxComputeWorkgroupSizeX,
		"maxComputeWorkgroupSizeY":                  l.MaxComputeWorkgroupSizeY,
		"maxComputeWorkgroupSizeZ":                  l.MaxComputeWorkgroupSizeZ,
		"maxComputeWorkgroupsPerDimension":          l.MaxComputeWorkgroupsPerDimension,
		"maxStorageBuffersPerShaderStage":           l.MaxStorageBuffersPerShaderStage,
		"maxUniformBufferBindingSize":               l.MaxUniformBufferBindingSize,
		"maxDynamicUniformBuffersPerPipelineLayout": l.MaxDynamicUniformBuffersPerPipelineLayout,
	}
}

// errSink collects a device's uncaptured errors and its loss, which the
// browser reports through events.
type errSink struct {
	mu   sync.Mutex
	errs []string
	lost string
	fns  []js.Func
	// pending are the popErrorScope promises of submits not yet awaited
	// (see scopeSubmit); fns[2] records what they report.
	pending []any
}

func (s *errSink) add(msg string) {
	s.mu.Lock()
	if len(s.errs) < 100 {
		s.errs = append(s.errs, msg)
	}
	s.mu.Unlock()
}

// settle waits for the error scopes of the submits so far, so that the
// errors of work already submitted are in the sink before it is read:
// uncaptured errors arrive as events, at no set time, and would be blamed
// on later work.
func (s *errSink) settle() {
	s.mu.Lock()
	p := s.pending
	s.pending = nil
	s.mu.Unlock()
	if len(p) > 0 {
		jsx.Await(js.Global().Get("Promise").Call("all", p))
	}
}

func (s *errSink) take() (errs []string, lost string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	errs, s.errs = s.errs, nil
	return errs, s.lost
}

// sinks maps each open device to its sink.
var sinks sync.Map // *wgpu.Device → *errSink

func sinkOf(d *wgpu.Device) *errSink {
	if s, ok := sinks.Load(d); ok {
		return s.(*errSink)
	}
	return &errSink{}
}

// deviceErr returns the errors the browser reported on d since the last
// call (nil if none), as one error; a lost device wraps ErrDeviceLost.
func deviceErr(d *wgpu.Device) error {
	s := sinkOf(d)
	s.settle()
	errs, lost := s.take()
	if lost != "" {
		return fmt.Errorf("%w: %s", ErrDeviceLost, lost)
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("WebGPU: %s", errs[0])
	}
	return fmt.Errorf("WebGPU: %s (and %d more errors)", errs[0], len(errs)-1)
}

// requestDevice asks the browser for a device with the limits of desc
// (which the binding would drop) and no extra features, and starts
// collecting its errors.
func requestDevice(ad *wgpu.Adapter, desc *wgpu.DeviceDescriptor) (*wgpu.Device, error) {
	req := map[string]any{"label": desc.Label}
	if desc.RequiredLimits != nil {
		req["requiredLimits"] = deviceLimits(desc.RequiredLimits.Limits)
	}
	if len(desc.RequiredFeatures) > 0 {
		return nil, fmt.Errorf("gpu: the browser binding cannot ask for features (%v)", desc.RequiredFeatures)
	}
	v, ok := jsx.Await(jsValueOf(ad).Call("requestDevice", req))
	if !ok {
		return nil, fmt.Errorf("requestDevice: %s", jsMessage(v))
	}
	if !v.Truthy() {
		return nil, errors.New("requestDevice gave no device")
	}
	d := wgpu.NewDevice(v)
	dev := &d
	s := &errSink{}
	onErr := js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "uncaptured error"
		if len(args) > 0 {
			msg = jsMessage(args[0].Get("error"))
		}
		s.add(msg)
		return nil
	})
	onScope := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 && args[0].Truthy() {
			s.add(jsMessage(args[0]))
		}
		return nil
	})
	onLost := js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "device lost"
		if len(args) > 0 && args[0].Get("message").Type() == js.TypeString && args[0].Get("message").String() != "" {
			msg = args[0].Get("message").String()
		}
		s.mu.Lock()
		s.lost = msg
		s.mu.Unlock()
		return nil
	})
	s.fns = []js.Func{onErr, onLost, onScope}
	v.Call("addEventListener", "uncapturederror", onErr)
	v.Get("lost").Call("then", onLost)
	sinks.Store(dev, s)
	return dev, nil
}

// jsMessage is the message of a JavaScript error (or its text).
func jsMessage(v js.Value) string {
	if v.Type() == js.TypeObject {
		if m := v.Get("message"); m.Type() == js.TypeString {
			return m.String()
		}
	}
	if v.IsUndefined() || v.IsNull() {
		return "unknown error"
	}
	return v.String()
}

// releaseDevice destroys the device (the binding's Release does nothing);
// its loss is then expected and no longer collected.
func releaseDevice(d *wgpu.Device) {
	if s, ok := sinks.LoadAndDelete(d); ok {
		jsValueOf(d).Call("removeEventListener", "uncapturederror", s.(*errSink).fns[0])
	}
	jsValueOf(d).Call("destroy")
}

// releaseBuffer destroys b, freeing its memory now rather than when the
// JavaScript collector gets to it.
func releaseBuffer(b *wgpu.Buffer) { b.Destroy() }

// newComputePipeline builds the compute pipeline of mod's entry point main
// with the explicit layout pll, in an error scope: a shader the browser's
// compiler rejects, or a pipeline over its limits, is an error here, with
// the compiler's messages.
func newComputePipeline(dev *wgpu.Device, label string, pll *wgpu.PipelineLayout, mod *wgpu.ShaderModule) (*wgpu.ComputePipeline, error) {
	d := jsValueOf(dev)
	d.Call("pushErrorScope", "validation")
	pl, _ := dev.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{
		Layout:  pll,
		Compute: wgpu.ProgrammableStageDescriptor{Module: mod, EntryPoint: "main"},
	})
	e, ok := jsx.Await(d.Call("popErrorScope"))
	if !ok {
		return nil, fmt.Errorf("popErrorScope: %s", jsMessage(e))
	}
	if !e.Truthy() {
		return pl, nil
	}
	msg := jsMessage(e)
	if c := compileErrors(mod); c != "" {
		msg = c + "; " + msg
	}
	deviceErr(dev) // the module's own error, reported above
	return nil, fmt.Errorf("%s", msg)
}

// compileErrors returns the error messages of the compilation of mod, with
// their lines, or "" if it has none.
func compileErrors(mod *wgpu.ShaderModule) string {
	info, ok := jsx.Await(jsValueOf(mod).Call("getCompilationInfo"))
	if !ok || info.Type() != js.TypeObject {
		return ""
	}
	msgs := info.Get("messages")
	var out []string
	for i := 0; i < msgs.Length(); i++ {
		m := msgs.Index(i)
		if m.Get("type").String() != "error" {
			continue
		}
		out = append(out, fmt.Sprintf("line %d: %s", m.Get("lineNum").Int(), m.Get("message").String()))
	}
	return strings.Join(out, "; ")
}

// scopeSubmit pushes a validation error scope before a command buffer is
// finished and submitted, and returns what pops it: the pop's promise is
// kept, not awaited, and deviceErr waits for it before it reads the sink.
// The scope takes in the errors of recording (which WebGPU reports at
// finish) and of the submit, so that each is reported by the next wait or
// readback, rather than whenever its event arrives.
func scopeSubmit(dev *wgpu.Device) func() {
	s, ok := sinks.Load(dev)
	if !ok {
		return func() {}
	}
	d := jsValueOf(dev)
	d.Call("pushErrorScope", "validation")
	return func() {
		sink := s.(*errSink)
		p := d.Call("popErrorScope").Call("then", sink.fns[2])
		sink.mu.Lock()
		sink.pending = append(sink.pending, p)
		sink.mu.Unlock()
	}
}

// endComputePass ends a compute pass (the js backend's End reports nothing;
// errors arrive in the device's sink).
func endComputePass(p *wgpu.ComputePassEncoder) error {
	p.End()
	return nil
}

// recordDispatch records the pipeline (unless nil), bind group 0 of g at
// the dynamic offset and a gx×gy×gz grid: cgo.go's gt_dispatch in
// JavaScript calls.
func recordDispatch(pass *wgpu.ComputePassEncoder, pl *wgpu.ComputePipeline, g *wgpu.BindGroup, offset, gx, gy, gz uint32) {
	p := jsValueOf(pass)
	if pl != nil {
		p.Call("setPipeline", jsValueOf(pl))
	}
	p.Call("setBindGroup", 0, jsValueOf(g), []any{offset})
	p.Call("dispatchWorkgroups", gx, gy, gz)
}

// wait blocks until the queue has finished the work submitted so far, and
// records the errors the browser reported meanwhile.
func (b *Backend) wait() {
	if r, ok := jsx.Await(jsValueOf(b.queue).Call("onSubmittedWorkDone")); !ok {
		b.fail(fmt.Errorf("gpu: onSubmittedWorkDone: %s", jsMessage(r)))
	}
	if err := deviceErr(b.dev); err != nil {
		b.fail(fmt.Errorf("gpu: %w", err))
	}
}

// readMapped copies the first len(dst) bytes of the MapRead buffer buf into
// dst, once, through the JavaScript API: the binding's MapAsync reports
// success even when the map failed. It blocks until the GPU has finished
// the work that writes buf, and returns the errors the browser reported
// meanwhile.
func readMapped(d *wgpu.Device, buf *wgpu.Buffer, dst []byte) error {
	if len(dst) == 0 {
		return nil
	}
	v := jsValueOf(buf)
	if r, ok := jsx.Await(v.Call("mapAsync", 1 /* GPUMapMode.READ */, 0, len(dst))); !ok {
		if err := deviceErr(d); err != nil {
			return fmt.Errorf("map for readback: %s: %w", jsMessage(r), err)
		}
		return fmt.Errorf("map for readback: %s", jsMessage(r))
	}
	js.CopyBytesToGo(dst, js.Global().Get("Uint8Array").New(v.Call("getMappedRange", 0, len(dst))))
	v.Call("unmap")
	if err := deviceErr(d); err != nil {
		return fmt.Errorf("readback: %w", err)
	}
	return nil
}

// writeBuffer queues a write of data into buf at off. It copies data into
// a Uint8Array of its own first: the binding's WriteBuffer hands the
// browser a view of the Go program's memory, which a growth of that memory
// before the call detaches ("Number of bytes to write is too large").
func writeBuffer(q *wgpu.Queue, buf *wgpu.Buffer, off uint64, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("writeBuffer: %v", r)
		}
	}()
	u8 := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(u8, data)
	jsValueOf(q).Call("writeBuffer", jsValueOf(buf), off, u8)
	return nil
}
