// Package gpu is gputrain's WebGPU host: it finds adapters, opens a device,
// manages buffers, compiles the WGSL in package shaders into cached
// pipelines, records dispatches and reads results back. Backend implements
// backend.Backend on top of it, in float32.
//
// # How work reaches the GPU
//
// Each operation appends one compute dispatch to a command encoder that stays
// open until results are needed: a whole training step becomes one command
// buffer and one submit. Scalars for each dispatch go into a slot of a
// uniform "params arena" that is uploaded once per submit and bound with a
// dynamic offset. Bind groups are cached by (pipeline, buffers, offsets), so
// a training loop that repeats the same step stops creating them after its
// first step; pipelines are compiled once per shader variant. From then on
// recording an operation allocates nothing on the Go heap (pipelines and
// bind groups are found by struct keys, scalars travel in a fixed array, and
// one cgo call records the dispatch), and submits allocate a few dozen
// objects in the binding every ~100 steps.
//
// # Files
//
// backend.go holds the device and its limits (Open, Stats, Sync, Close);
// tensor.go tensors and transfers (New, View, Slice, Free, the Write and
// Read methods); dispatch.go recording and dispatch, the per-step path
// (pipelines, bind groups, the params arena, flush); ops.go one function per
// operation; cgo.go the calls made around the binding (readback, timed
// passes, the dispatch itself). native.go and web.go are the two sides of
// the few seams where a browser's WebGPU differs: built with GOOS=js
// GOARCH=wasm, the package runs on the page's navigator.gpu (web.go says
// how: readback through mapAsync, errors from the device's events, no
// timestamps), and everything above it (nn, fit, the conformance suite)
// is unchanged.
//
// # Kernel time
//
// Opened with Options.Timestamps on an adapter with timestamp queries, the
// backend has every compute pass write GPU timestamps at its start and end
// and reads them back when Sync waits anyway; KernelTime then reports the
// GPU time of the work, apart from the host's recording and waiting.
// Timestamp ticks become nanoseconds through a period that Open measures
// (see TimestampPeriod).
//
// # Concurrency
//
// A Backend may be called from several goroutines: a mutex serialises every
// method, because WebGPU's error capture is device-wide (an error raised by
// one goroutine's call would otherwise be reported to another's). The order
// in which operations from different goroutines are recorded is then up to
// the caller, so in practice one goroutine should own a Backend.
//
// # Hazards of the binding
//
// Binding v0.23.0 aborts the process (not an error) when work that uses a
// destroyed or mapped buffer is submitted. The Backend therefore tracks the
// state of every buffer and refuses such calls itself: using a freed tensor
// panics with a message before anything reaches the driver, and readback
// maps only private staging buffers that no dispatch binds. Readback goes
// through this package's own cgo (see cgo.go), because the binding's MapAsync
// crashes under garbage-collector pressure.
package gpu

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/cogentcore/webgpu/wgpu"
	"github.com/gputrain/gputrain/backend"
)

// Stats counts what a Backend holds and has done. Counts of live objects must
// stay flat over a long training run; a leak shows here first.
type Stats struct {
	LiveBuffers    int    // storage buffers of live tensors
	LiveBytes      uint64 // bytes held by live tensors
	PeakBytes      uint64 // the most LiveBytes has been
	BindGroups     int    // cached bind groups
	Pipelines      int    // compiled pipelines
	Dispatches     uint64 // compute dispatches recorded
	Submits        uint64 // command buffers submitted
	Readbacks      uint64 // buffers read back to the host
	BytesUploaded  uint64
	BytesReadBack  uint64
	StagingBytes   uint64 // size of the readback staging buffer
	ParamsPerFlush int    // params slots used by the last submit
	Tunings        int    // shape buckets the autotuner measured (not loaded from TuneCache)

	// With Options.Timestamps (see KernelTime):
	TimedPasses     uint64 // compute passes that wrote timestamps
	TimestampReads  uint64 // readbacks of timestamps (one a Sync at most, plus drains)
	TimestampDrains uint64 // waits forced because the query slots ran out before a Sync
}

// Options configure Open.
type Options struct {
	// Device selects the adapter; see Select. Empty means "any".
	Device string
	// Autotune measures the matmul tile configurations once per shape
	// bucket and keeps the fastest (see MatmulCandidates). It costs a few
	// timed runs the first time each shape appears.
	Autotune bool
	// Matmul, when not nil, is the tile configuration of every product,
	// instead of DefaultMatmul or the autotuner's choice (for experiments
	// and tests of one configuration). Open fails if it does not fit the
	// adapter.
	Matmul *MatmulConfig
	// TuneCache, with Autotune, is a JSON file that keeps the autotuner's
	// choices across runs: Open loads those measured on this adapter,
	// driver and matmul shader, and each new choice is added to it
	// (written atomically). Empty means choices last as long as the
	// Backend. A cache that cannot be read or written is reported in
	// TuneLog and never fails the backend.
	TuneCache string
	// MaxStorageBinding, when non-zero, lowers the largest tensor the
	// backend accepts below the adapter's limit (for tests of that limit).
	MaxStorageBinding uint64
	// Timestamps records a GPU timestamp at the start and end of every
	// compute pass, so that KernelTime reports the GPU time of the work.
	// It needs the adapter's "timestamp-query" feature (Vulkan, Metal and
	// DX12 adapters usually have it, GL ones not); without it the option
	// is ignored and KernelTime reports the time unavailable. It costs a
	// calibration of a few tens of milliseconds at Open and one small
	// readback per Sync; without it the backend records nothing extra.
	Timestamps bool
}

// Backend runs backend operations as WGSL compute shaders on one WebGPU
// device, in float32. Create it with Open; it implements backend.Backend.
type Backend struct {
	mu sync.Mutex

	adapterRef *wgpu.Adapter
	dev        *wgpu.Device
	queue      *wgpu.Queue
	adapter    Adapter
	limits     wgpu.Limits
	maxBinding uint64

	// kernels are the compiled kernels, in order of id; variants the same by
	// shader (kernelFor).
	kernels  []*kernel
	variants [numShaders][]*kernel
	groups   map[groupKey]*wgpu.BindGroup

	nextID  uint64
	buffers map[uint64]*buffer

	enc  *wgpu.CommandEncoder
	pass *wgpu.ComputePassEncoder
	// passPipeline is the pipeline last set in pass.
	passPipeline *wgpu.ComputePipeline

	params     *wgpu.Buffer
	paramsHost []byte
	slot       int

	staging     *wgpu.Buffer
	stagingSize uint64

	// spare is a one-word tensor that shaders bind where an optional
	// writable binding is unused (see spareWord).
	spare *Tensor

	autotune bool
	forced   *MatmulConfig // Options.Matmul
	tuned    map[tuneKey]MatmulConfig
	tuneLog  []string
	// tuneCache is Options.TuneCache (with Autotune); shaderID fingerprints
	// the matmul shader its entries must match.
	tuneCache, shaderID string

	ts *timer // nil unless timestamps are recorded (Options.Timestamps)

	err    error // first device error since the last Sync
	lost   bool
	closed bool
	stats  Stats
}

// Open finds the adapter that opts.Device selects (see Select) and opens a
// device on it with the adapter's own limits, so that large buffers are not
// held to WebGPU's smaller defaults.
func Open(opts Options) (*Backend, error) {
	list, raw := enumerate()
	keep := -1
	defer func() {
		for i, a := range raw {
			if i != keep {
				a.Release()
			}
		}
	}()
	choice := opts.Device
	if choice == "" {
		choice = "any"
	}
	pick, err := Select(list, choice)
	if err != nil {
		return nil, err
	}
	ad := raw[pick.Index]
	limits := ad.GetLimits().Limits
	// The binding reads the push-constant limit from an uninitialised
	// extension struct; compute shaders here use none, so ask for none.
	limits.MaxPushConstantSize = 0
	desc := &wgpu.DeviceDescriptor{
		Label:          "gputrain",
		RequiredLimits: &wgpu.RequiredLimits{Limits: limits},
	}
	timing := opts.Timestamps && hasTimestampQuery(ad)
	if timing {
		desc.RequiredFeatures = []wgpu.FeatureName{wgpu.FeatureNameTimestampQuery}
	}
	dev, err := requestDevice(ad, desc)
	if err != nil && timing {
		// Timing is optional: open the device without it.
		timing, desc.RequiredFeatures = false, nil
		dev, err = requestDevice(ad, desc)
	}
	if err != nil {
		return nil, fmt.Errorf("gpu: open %s (%s): %w", pick.Name, pick.API, err)
	}
	keep = pick.Index
	b := &Backend{
		adapterRef: ad,
		dev:        dev,
		queue:      dev.GetQueue(),
		adapter:    pick,
		limits:     limits,
		maxBinding: limits.MaxStorageBufferBindingSize,
		groups:     map[groupKey]*wgpu.BindGroup{},
		buffers:    map[uint64]*buffer{},
		paramsHost: make([]byte, paramSlot*paramSlots),
		autotune:   opts.Autotune,
		tuned:      map[tuneKey]MatmulConfig{},
	}
	if opts.Matmul != nil {
		if err := opts.Matmul.valid(pick.Limits); err != nil {
			b.release()
			return nil, fmt.Errorf("gpu: Options.Matmul: %w", err)
		}
		c := *opts.Matmul
		b.forced = &c
	}
	if opts.Autotune && opts.TuneCache != "" {
		b.tuneCache, b.shaderID = opts.TuneCache, matmulShaderID()
		b.loadTuneCache()
	}
	if opts.MaxStorageBinding != 0 && opts.MaxStorageBinding < b.maxBinding {
		b.maxBinding = opts.MaxStorageBinding
	}
	b.params, err = dev.CreateBuffer(&wgpu.BufferDescriptor{
		Label: "params",
		Size:  uint64(len(b.paramsHost)),
		Usage: wgpu.BufferUsageUniform | wgpu.BufferUsageCopyDst,
	})
	if err != nil {
		b.release()
		return nil, fmt.Errorf("gpu: params buffer: %w", err)
	}
	if timing {
		b.startTimestamps()
	}
	return b, nil
}

// startTimestamps sets up timestamp recording and calibrates the tick
// period. Timing is optional, so a failure leaves it off instead of failing
// Open.
func (b *Backend) startTimestamps() {
	t, err := newTimer(b.dev)
	if err != nil {
		return
	}
	b.ts = t
	if err := b.calibrateTimestamps(); err != nil {
		if b.ts != nil {
			b.ts.release()
			b.ts = nil
		}
		b.err = nil
		return
	}
	b.stats = Stats{}
}

// spareWord returns the backend's spare one-word tensor, allocating it on
// first use: a dispatch binds it in place of an optional output that it
// leaves alone, since binding another written tensor there would alias
// two writable bindings. It returns nil after recording an allocation
// error.
func (b *Backend) spareWord() *Tensor {
	if b.spare == nil {
		t, err := b.newLocked(1, 1)
		if err != nil {
			return nil
		}
		b.spare = t
	}
	return b.spare
}

// Adapter describes the adapter the backend runs on.
func (b *Backend) Adapter() Adapter { return b.adapter }

// MaxTensorBytes is the largest tensor New accepts: the adapter's maximum
// storage-buffer binding size (or the lower limit given in Options).
func (b *Backend) MaxTensorBytes() uint64 { return b.maxBinding }

// Info describes the device.
func (b *Backend) Info() backend.Info {
	return backend.Info{
		Kind:        "gpu",
		API:         b.adapter.API,
		Adapter:     b.adapter.Name,
		AdapterType: b.adapter.Type,
		Driver:      b.adapter.Driver,
		Precision:   "float32",
	}
}

// Stats returns the backend's counters.
func (b *Backend) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stats
	s.LiveBuffers = len(b.buffers)
	s.BindGroups = len(b.groups)
	s.Pipelines = len(b.kernels)
	s.StagingBytes = b.stagingSize
	return s
}

// usable panics if the backend was closed; it returns the sticky error of a
// lost device.
func (b *Backend) usable() error {
	if b.closed {
		panic("gpu: backend used after Close")
	}
	if b.lost {
		return ErrDeviceLost
	}
	return nil
}

// fail records the first device error since the last Sync.
func (b *Backend) fail(err error) {
	if errors.Is(err, ErrDeviceLost) || strings.Contains(strings.ToLower(err.Error()), "device lost") ||
		strings.Contains(strings.ToLower(err.Error()), "parent device is lost") {
		b.lost = true
		if !errors.Is(err, ErrDeviceLost) {
			err = fmt.Errorf("%w: %v", ErrDeviceLost, err)
		}
	}
	if b.err == nil {
		b.err = err
	}
}

// takeErr returns and clears the sticky error.
func (b *Backend) takeErr() error {
	err := b.err
	b.err = nil
	if err == nil && b.lost {
		err = ErrDeviceLost
	}
	return err
}

// Sync submits recorded work, waits for the GPU to finish it and returns the
// first device error since the last Sync.
func (b *Backend) Sync() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		panic("gpu: backend used after Close")
	}
	b.flush()
	if b.err == nil && !b.lost {
		b.wait()
	}
	b.collectTimestamps()
	return b.takeErr()
}

// Close releases every buffer, pipeline and bind group, and the device.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.flush()
	if !b.lost {
		b.wait()
	}
	err := b.takeErr()
	b.release()
	return err
}

func (b *Backend) release() {
	for k, g := range b.groups {
		g.Release()
		delete(b.groups, k)
	}
	for id, buf := range b.buffers {
		buf.freed = true
		releaseBuffer(buf.buf)
		delete(b.buffers, id)
	}
	for _, k := range b.kernels {
		k.layout.Release()
		k.pipeline.Release()
	}
	b.kernels, b.variants = nil, [numShaders][]*kernel{}
	if b.staging != nil {
		releaseBuffer(b.staging)
		b.staging = nil
	}
	if b.params != nil {
		releaseBuffer(b.params)
	}
	if b.ts != nil {
		b.ts.release()
		b.ts = nil
	}
	// The queue is deliberately not released: with binding v0.23.0, releasing
	// it makes the next device opened in this process fail every submit with
	// "Attempt to use a resource with a different device" (an abort, not an
	// error). Keeping it costs one device's bookkeeping per Open/Close cycle;
	// TestReopen guards the behaviour.
	releaseDevice(b.dev)
	b.adapterRef.Release()
	b.stats.LiveBytes = 0
	b.closed = true
}

var _ backend.Backend = (*Backend)(nil)
