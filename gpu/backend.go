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
// dynamic offset. Bind groups are cached by (pipeline, buffers), so a training loop that repeats the
// same step stops creating them after its first step; pipelines are compiled
// once per shader variant.
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
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cogentcore/webgpu/wgpu"
	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/shaders"
)

const (
	// paramSlot is the size of one dispatch's uniform block; 256 bytes is
	// WebGPU's minUniformBufferOffsetAlignment on every adapter.
	paramSlot = 256
	// paramSlots is how many dispatches one submit can hold before the
	// host submits early.
	paramSlots = 1024
	// maxBindGroups caps the bind-group cache; past it the cache is emptied.
	maxBindGroups = 8192
	// elementwiseGroups caps the workgroups of grid-stride kernels, which
	// bounds the size of a dispatch (driver watchdogs kill very long ones
	// less often when work is spread over several smaller dispatches).
	elementwiseGroups = 4096
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

	kernels map[string]*kernel
	groups  map[groupKey]*wgpu.BindGroup

	nextID  uint64
	buffers map[uint64]*buffer

	enc  *wgpu.CommandEncoder
	pass *wgpu.ComputePassEncoder

	params     *wgpu.Buffer
	paramsHost []byte
	slot       int

	staging     *wgpu.Buffer
	stagingSize uint64

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

type kernel struct {
	id       int
	name     string
	pipeline *wgpu.ComputePipeline
	layout   *wgpu.BindGroupLayout
}

type groupKey struct {
	kernel int
	ids    [6]uint64
}

type buffer struct {
	id    uint64
	buf   *wgpu.Buffer
	size  uint64
	freed bool
}

// Tensor is a tensor on a Backend. Views share their parent's buffer.
type Tensor struct {
	b          *Backend
	buf        *buffer
	rows, cols int
	dtype      backend.DType
	view       bool
}

// Rows returns the number of rows.
func (t *Tensor) Rows() int { return t.rows }

// Cols returns the number of columns.
func (t *Tensor) Cols() int { return t.cols }

// DType returns the element type.
func (t *Tensor) DType() backend.DType { return t.dtype }

func (t *Tensor) len() int { return t.rows * t.cols }

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
	dev, err := ad.RequestDevice(desc)
	if err != nil && timing {
		// Timing is optional: open the device without it.
		timing, desc.RequiredFeatures = false, nil
		dev, err = ad.RequestDevice(desc)
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
		kernels:    map[string]*kernel{},
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

func (b *Backend) tensor(t backend.Tensor, op string) *Tensor {
	if b.closed {
		panic("gpu: backend used after Close")
	}
	gt, ok := t.(*Tensor)
	if !ok || gt.b != b {
		panic(fmt.Sprintf("gpu: %s: tensor %dx%d does not belong to this backend", op, t.Rows(), t.Cols()))
	}
	if gt.buf.freed {
		panic(fmt.Sprintf("gpu: %s: use of freed tensor %dx%d", op, t.Rows(), t.Cols()))
	}
	return gt
}

// byteSize is the size of a tensor's buffer: elements rounded up to whole
// 32-bit words (Byte tensors pack four elements a word).
func byteSize(rows, cols int, dt backend.DType) uint64 {
	n := uint64(rows) * uint64(cols)
	if dt == backend.Byte {
		return (n + 3) / 4 * 4
	}
	return n * 4
}

// New allocates a zero-filled rows×cols tensor. It returns an error naming
// the limit when the tensor is larger than one storage binding may be.
func (b *Backend) New(rows, cols int, dt backend.DType) (backend.Tensor, error) {
	backend.CheckNew(rows, cols, dt)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.usable(); err != nil {
		return nil, err
	}
	t, err := b.alloc(rows, cols, dt)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return t, nil
}

func (b *Backend) alloc(rows, cols int, dt backend.DType) (*Tensor, error) {
	size := byteSize(rows, cols, dt)
	if size > b.maxBinding {
		return nil, fmt.Errorf("gpu: tensor %dx%d %s needs %d bytes, more than the adapter's max storage-buffer binding size of %d bytes (%s)",
			rows, cols, dt, size, b.maxBinding, b.adapter.Name)
	}
	buf, err := b.dev.CreateBuffer(&wgpu.BufferDescriptor{
		Size:  size,
		Usage: wgpu.BufferUsageStorage | wgpu.BufferUsageCopyDst | wgpu.BufferUsageCopySrc,
	})
	if err != nil {
		err = fmt.Errorf("gpu: allocate tensor %dx%d %s (%d bytes): %w", rows, cols, dt, size, err)
		b.fail(err)
		return nil, err
	}
	b.nextID++
	bb := &buffer{id: b.nextID, buf: buf, size: size}
	b.buffers[bb.id] = bb
	b.stats.LiveBytes += size
	b.stats.PeakBytes = max(b.stats.PeakBytes, b.stats.LiveBytes)
	return &Tensor{b: b, buf: bb, rows: rows, cols: cols, dtype: dt}, nil
}

// newLocked allocates a float tensor; b.mu must be held.
func (b *Backend) newLocked(rows, cols int) (*Tensor, error) {
	return b.alloc(rows, cols, backend.Float)
}

// View returns the first rows rows of t.
func (b *Backend) View(t backend.Tensor, rows int) backend.Tensor {
	backend.CheckView(t, rows)
	gt := b.tensor(t, "View")
	return &Tensor{b: b, buf: gt.buf, rows: rows, cols: gt.cols, dtype: gt.dtype, view: true}
}

// Free releases t's buffer. Work already recorded is submitted first, so the
// buffer is never destroyed under a pending dispatch.
func (b *Backend) Free(t backend.Tensor) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return // Close released everything already
	}
	gt := b.tensor(t, "Free")
	if gt.view {
		return
	}
	b.freeLocked(gt)
}

// freeLocked releases t's buffer; b.mu must be held.
func (b *Backend) freeLocked(gt *Tensor) {
	b.flush()
	b.dropGroups(gt.buf.id)
	gt.buf.freed = true
	gt.buf.buf.Release()
	delete(b.buffers, gt.buf.id)
	b.stats.LiveBytes -= gt.buf.size
}

// dropGroups releases cached bind groups that bind buffer id.
func (b *Backend) dropGroups(id uint64) {
	for k, g := range b.groups {
		for _, x := range k.ids {
			if x == id {
				g.Release()
				delete(b.groups, k)
				break
			}
		}
	}
}

// write uploads data into t after submitting any recorded work, so that the
// upload lands after the operations recorded before it.
func (b *Backend) write(t *Tensor, data []byte) error {
	if err := b.usable(); err != nil {
		return err
	}
	b.flush()
	if err := b.queue.WriteBuffer(t.buf.buf, 0, data); err != nil {
		err = fmt.Errorf("gpu: write tensor %dx%d: %w", t.rows, t.cols, err)
		b.fail(err)
		return err
	}
	b.stats.BytesUploaded += uint64(len(data))
	return nil
}

// WriteFloats uploads src, rounded to float32.
func (b *Backend) WriteFloats(t backend.Tensor, src []float64) error {
	backend.CheckWrite("WriteFloats", t, backend.Float, len(src))
	b.mu.Lock()
	defer b.mu.Unlock()
	gt := b.tensor(t, "WriteFloats")
	buf := make([]byte, 4*len(src))
	for i, v := range src {
		putWord(buf[4*i:], math.Float32bits(float32(v)))
	}
	return b.write(gt, buf)
}

// WriteBytes uploads src into a Byte tensor.
func (b *Backend) WriteBytes(t backend.Tensor, src []byte) error {
	backend.CheckWrite("WriteBytes", t, backend.Byte, len(src))
	b.mu.Lock()
	defer b.mu.Unlock()
	gt := b.tensor(t, "WriteBytes")
	buf := make([]byte, byteSize(gt.rows, gt.cols, backend.Byte))
	copy(buf, src)
	return b.write(gt, buf)
}

// WriteIndices uploads src into an Index tensor.
func (b *Backend) WriteIndices(t backend.Tensor, src []uint32) error {
	backend.CheckWrite("WriteIndices", t, backend.Index, len(src))
	b.mu.Lock()
	defer b.mu.Unlock()
	gt := b.tensor(t, "WriteIndices")
	buf := make([]byte, 4*len(src))
	for i, v := range src {
		putWord(buf[4*i:], v)
	}
	return b.write(gt, buf)
}

func putWord(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func getWord(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// ReadFloats submits recorded work, copies t into a staging buffer and reads
// it back.
func (b *Backend) ReadFloats(t backend.Tensor) ([]float64, error) {
	out, err := b.ReadFloatsAll(t)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// ReadFloatsAll is ReadFloats of each tensor, in order, for the price of
// one: all are copied into the staging buffer by one command buffer and
// read back with one wait (backend.MultiReader). It panics like ReadFloats.
func (b *Backend) ReadFloatsAll(ts ...backend.Tensor) ([][]float64, error) {
	if len(ts) == 0 {
		return [][]float64{}, nil // nothing to map: a zero-size map is invalid
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	gts := make([]*Tensor, len(ts))
	sizes := make([]uint64, len(ts))
	for i, t := range ts {
		gt := b.tensor(t, "ReadFloats")
		if gt.dtype != backend.Float {
			panic(fmt.Sprintf("gpu: ReadFloats: tensor %dx%d is of type %s", gt.rows, gt.cols, gt.dtype))
		}
		gts[i], sizes[i] = gt, uint64(4*gt.len())
	}
	raw, err := b.read(gts, sizes)
	if err != nil {
		if len(gts) == 1 {
			return nil, fmt.Errorf("gpu: read tensor %dx%d: %w", gts[0].rows, gts[0].cols, err)
		}
		return nil, fmt.Errorf("gpu: read %d tensors: %w", len(gts), err)
	}
	out := make([][]float64, len(gts))
	for i, gt := range gts {
		v := make([]float64, gt.len())
		for j := range v {
			v[j] = float64(math.Float32frombits(getWord(raw[4*j:])))
		}
		out[i] = v
		raw = raw[sizes[i]:]
	}
	return out, nil
}

// read copies the first sizes[i] bytes of each tensor's buffer to the host,
// one after the other, with one submit and one wait.
func (b *Backend) read(ts []*Tensor, sizes []uint64) ([]byte, error) {
	if err := b.usable(); err != nil {
		return nil, err
	}
	var total uint64
	for _, s := range sizes {
		total += s
	}
	if err := b.ensureStaging(total); err != nil {
		return nil, err
	}
	b.endPass()
	b.encoder()
	if b.enc == nil {
		return nil, b.takeErr()
	}
	var off uint64
	for i, t := range ts {
		if err := b.enc.CopyBufferToBuffer(t.buf.buf, 0, b.staging, off, sizes[i]); err != nil {
			b.fail(fmt.Errorf("copy to staging: %w", err))
		}
		off += sizes[i]
	}
	b.flush()
	if err := b.takeErr(); err != nil {
		return nil, err
	}
	out := make([]byte, total)
	if err := readMapped(b.dev, b.staging, out); err != nil {
		b.fail(err)
		return nil, b.takeErr()
	}
	b.stats.Readbacks++
	b.stats.BytesReadBack += total
	return out, nil
}

// ensureStaging makes the readback staging buffer at least size bytes.
func (b *Backend) ensureStaging(size uint64) error {
	if b.stagingSize >= size {
		return nil
	}
	b.flush() // pending work may still copy into the old staging buffer
	if b.staging != nil {
		b.staging.Release()
		b.staging, b.stagingSize = nil, 0
	}
	alloc := max(size, 4096)
	s, err := b.dev.CreateBuffer(&wgpu.BufferDescriptor{
		Label: "staging",
		Size:  alloc,
		Usage: wgpu.BufferUsageMapRead | wgpu.BufferUsageCopyDst,
	})
	if err != nil {
		err = fmt.Errorf("staging buffer of %d bytes: %w", alloc, err)
		b.fail(err)
		return err
	}
	b.staging, b.stagingSize = s, alloc
	return nil
}

// Flush submits the work recorded so far without waiting for it, so that the
// device starts on it while the host records more. Device errors surface at
// the next Sync; Flush itself returns only ErrDeviceLost, for a device already
// known to be lost. It panics if b was closed.
func (b *Backend) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.usable(); err != nil {
		return err
	}
	b.flush()
	return nil
}

// Dispatches returns the number of compute dispatches recorded since Open
// (Stats().Dispatches, without the rest of Stats).
func (b *Backend) Dispatches() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats.Dispatches
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
		buf.buf.Release()
		delete(b.buffers, id)
	}
	for n, k := range b.kernels {
		k.layout.Release()
		k.pipeline.Release()
		delete(b.kernels, n)
	}
	if b.staging != nil {
		b.staging.Release()
		b.staging = nil
	}
	if b.params != nil {
		b.params.Release()
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
	b.dev.Release()
	b.adapterRef.Release()
	b.stats.LiveBytes = 0
	b.closed = true
}

// kernelFor returns the compiled pipeline for shader name specialised with
// consts, compiling it on first use. A compile error names the shader and
// carries wgpu's message.
func (b *Backend) kernelFor(name string, consts map[string]string) (*kernel, error) {
	key := name
	if len(consts) > 0 {
		key = fmt.Sprintf("%s%v", name, consts)
	}
	if k, ok := b.kernels[key]; ok {
		return k, nil
	}
	src, err := shaders.Source(name, consts)
	if err != nil {
		return nil, err
	}
	mod, err := b.dev.CreateShaderModule(&wgpu.ShaderModuleDescriptor{
		Label:          name,
		WGSLDescriptor: &wgpu.ShaderModuleWGSLDescriptor{Code: src},
	})
	if err != nil {
		return nil, fmt.Errorf("gpu: compile shader %s: %w", key, err)
	}
	defer mod.Release()
	layout, err := b.layoutFor(key, src)
	if err != nil {
		return nil, err
	}
	pll, err := b.dev.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{BindGroupLayouts: []*wgpu.BindGroupLayout{layout}})
	if err != nil {
		layout.Release()
		return nil, fmt.Errorf("gpu: pipeline layout for shader %s: %w", key, err)
	}
	defer pll.Release()
	pl, err := b.dev.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{
		Label:   name,
		Layout:  pll,
		Compute: wgpu.ProgrammableStageDescriptor{Module: mod, EntryPoint: "main"},
	})
	if err != nil {
		layout.Release()
		return nil, fmt.Errorf("gpu: build pipeline for shader %s: %w", key, err)
	}
	k := &kernel{id: len(b.kernels) + 1, name: key, pipeline: pl, layout: layout}
	b.kernels[key] = k
	return k, nil
}

var bindingDecl = regexp.MustCompile(`@binding\((\d+)\)\s*var<(uniform|storage,\s*read_write|storage,\s*read)>`)

// layoutFor builds the bind-group layout of a shader from its declarations:
// binding 0 is the uniform params block, bound with a dynamic offset so that
// one bind group serves every params slot; the others are storage buffers,
// read-only or read-write as declared.
func (b *Backend) layoutFor(name, src string) (*wgpu.BindGroupLayout, error) {
	var entries []wgpu.BindGroupLayoutEntry
	for _, m := range bindingDecl.FindAllStringSubmatch(src, -1) {
		n, _ := strconv.Atoi(m[1])
		e := wgpu.BindGroupLayoutEntry{Binding: uint32(n), Visibility: wgpu.ShaderStageCompute}
		switch {
		case m[2] == "uniform":
			e.Buffer = wgpu.BufferBindingLayout{Type: wgpu.BufferBindingTypeUniform, HasDynamicOffset: true, MinBindingSize: paramSlot}
		case strings.Contains(m[2], "read_write"):
			e.Buffer = wgpu.BufferBindingLayout{Type: wgpu.BufferBindingTypeStorage}
		default:
			e.Buffer = wgpu.BufferBindingLayout{Type: wgpu.BufferBindingTypeReadOnlyStorage}
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 || entries[0].Binding != 0 || entries[0].Buffer.Type != wgpu.BufferBindingTypeUniform {
		return nil, fmt.Errorf("gpu: shader %s: binding 0 must be the uniform params block", name)
	}
	l, err := b.dev.CreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{Label: name, Entries: entries})
	if err != nil {
		return nil, fmt.Errorf("gpu: bind group layout for shader %s: %w", name, err)
	}
	return l, nil
}

// encoder makes sure a command encoder is open.
func (b *Backend) encoder() {
	if b.enc != nil {
		return
	}
	enc, err := b.dev.CreateCommandEncoder(nil)
	if err != nil {
		b.fail(fmt.Errorf("gpu: command encoder: %w", err))
		return
	}
	b.enc = enc
}

func (b *Backend) endPass() {
	if b.pass == nil {
		return
	}
	if err := b.pass.End(); err != nil {
		b.fail(fmt.Errorf("gpu: end compute pass: %w", err))
	}
	b.pass.Release()
	b.pass = nil
}

// flush finishes the open command encoder, uploads the params arena and
// submits, all without waiting.
func (b *Backend) flush() {
	if b.enc == nil {
		return
	}
	b.endPass()
	b.resolveTimestamps()
	submitted := false
	if b.ts != nil {
		defer func() { b.endEncoderTimestamps(submitted) }()
	}
	cmd, err := b.enc.Finish(nil)
	b.enc.Release()
	b.enc = nil
	used := b.slot
	b.slot = 0
	b.stats.ParamsPerFlush = used
	if err != nil {
		b.fail(fmt.Errorf("gpu: finish command buffer: %w", err))
		return
	}
	defer cmd.Release()
	if used > 0 {
		if err := b.queue.WriteBuffer(b.params, 0, b.paramsHost[:used*paramSlot]); err != nil {
			b.fail(fmt.Errorf("gpu: upload params: %w", err))
			return
		}
	}
	if b.lost {
		return
	}
	b.queue.Submit(cmd)
	submitted = true
	b.stats.Submits++
}

// dispatch records one dispatch of kernel k with the given 32-bit params
// words and storage buffers (bindings 1, 2, ... in order) on a grid of
// gx×gy workgroups.
func (b *Backend) dispatch(name string, consts map[string]string, params []uint32, gx, gy uint32, ts ...*Tensor) {
	if b.closed {
		panic("gpu: backend used after Close")
	}
	if b.lost {
		return
	}
	if gx == 0 || gy == 0 {
		return
	}
	if maxG := b.limits.MaxComputeWorkgroupsPerDimension; gx > maxG || gy > maxG {
		b.fail(fmt.Errorf("gpu: %s: grid %dx%d exceeds the adapter's %d workgroups per dimension", name, gx, gy, maxG))
		return
	}
	k, err := b.kernelFor(name, consts)
	if err != nil {
		b.fail(err)
		return
	}
	key := groupKey{kernel: k.id}
	for i, t := range ts {
		if t.buf.freed {
			panic(fmt.Sprintf("gpu: %s: use of freed tensor %dx%d", name, t.rows, t.cols))
		}
		key.ids[i] = t.buf.id
	}
	g, ok := b.groups[key]
	if !ok {
		if len(b.groups) >= maxBindGroups {
			b.flush()
			for k, g := range b.groups {
				g.Release()
				delete(b.groups, k)
			}
		}
		entries := make([]wgpu.BindGroupEntry, 0, len(ts)+1)
		entries = append(entries, wgpu.BindGroupEntry{Binding: 0, Buffer: b.params, Offset: 0, Size: paramSlot})
		for i, t := range ts {
			entries = append(entries, wgpu.BindGroupEntry{Binding: uint32(i + 1), Buffer: t.buf.buf, Size: wgpu.WholeSize})
		}
		g, err = b.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{Layout: k.layout, Entries: entries})
		if err != nil {
			b.fail(fmt.Errorf("gpu: bind group for shader %s: %w", k.name, err))
			return
		}
		b.groups[key] = g
	}
	// Every flush happens before the params slot is taken: a flush uploads
	// the arena and starts it again at slot 0.
	if b.slot == paramSlots {
		b.flush()
	}
	if b.ts != nil && b.pass == nil && b.ts.full() {
		b.drainTimestamps()
	}
	slot := b.slot
	b.slot++
	p := b.paramsHost[slot*paramSlot : (slot+1)*paramSlot]
	for i, w := range params {
		putWord(p[4*i:], w)
	}
	b.encoder()
	if b.enc == nil {
		return
	}
	if b.pass == nil {
		b.beginPass()
	}
	b.pass.SetPipeline(k.pipeline)
	b.pass.SetBindGroup(0, g, []uint32{uint32(slot * paramSlot)})
	b.pass.DispatchWorkgroups(gx, gy, 1)
	b.stats.Dispatches++
}

// groups1D is the grid of a grid-stride kernel with 256 invocations a
// workgroup over n elements.
func groups1D(n int) uint32 {
	return uint32(min((n+255)/256, elementwiseGroups))
}

func f32(v float64) uint32 { return math.Float32bits(float32(v)) }

var _ backend.Backend = (*Backend)(nil)
