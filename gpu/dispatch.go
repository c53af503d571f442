package gpu

// Recording and dispatch: the per-step path. An operation (ops.go) checks its
// shapes, fills its shader's params struct (params.go) and calls run or
// product, which call dispatch: it finds the compiled pipeline (among the
// few variants of its shader, see kernelFor) and the
// cached bind group, copies the params struct's bytes into the next slot of
// the params arena and records three calls in the open compute pass. Nothing
// on this path allocates once a training loop has seen its step: no strings,
// maps or slices are built per dispatch (TestTrainStepAllocs). flush ends the
// pass, uploads the arena and submits.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cogentcore/webgpu/wgpu"
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
	// maxBindings is the most storage buffers a shader binds (bindings 1…).
	maxBindings = 7
	// elementwiseGroups caps the workgroups of grid-stride kernels, which
	// bounds the size of a dispatch (driver watchdogs kill very long ones
	// less often when work is spread over several smaller dispatches).
	elementwiseGroups = 4096
)

// kernelKey names one compiled shader variant: the shader, and for the tiled
// products (the shaders that include _matmul_core) the tile configuration
// and operand layouts that specialise it. It is a map key of integers that
// costs no allocation to build.
type kernelKey struct {
	shader         shader
	cfg            MatmulConfig // zero for shaders that are not tiled products
	transA, transB bool
}

// consts returns the placeholder values of the variant: the tile
// configuration's, with SUM_B on for matmul_column_sum (see _matmul_core).
func (k kernelKey) consts() map[string]string {
	if k.cfg == (MatmulConfig{}) {
		return nil
	}
	c := k.cfg.consts(k.transA, k.transB)
	if k.shader == shMatmulColumnSum || k.shader == shMatmulColumnSumShared {
		c["SUM_B"] = "true"
	}
	return c
}

type kernel struct {
	id       int
	key      kernelKey
	name     string // shader and constants, for messages
	pipeline *wgpu.ComputePipeline
	layout   *wgpu.BindGroupLayout
	// writable has bit i set when binding i+1 is a read_write storage
	// buffer (see layoutFor).
	writable uint8
}

// binding is one storage buffer of a bind group: a tensor's buffer, the
// byte offset at which the tensor starts in it (non-zero for slices) and
// the bytes bound from there (see Tensor.bindSize).
type binding struct{ id, off, size uint64 }

type groupKey struct {
	kernel int
	bind   [maxBindings]binding
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

// kernelFor returns the compiled pipeline of key, compiling it on first use.
// It is found among the variants of its shader (b.variants: one for a shader
// that is not specialised, a few for a tiled product: the tile
// configurations and operand layouts that a model's shapes use), by index
// and a short scan, without hashing. A compile error names the shader and
// carries wgpu's message.
func (b *Backend) kernelFor(key kernelKey) (*kernel, error) {
	for _, k := range b.variants[key.shader] {
		if k.key == key {
			return k, nil
		}
	}
	consts := key.consts()
	name := key.shader.String()
	if consts != nil {
		name = fmt.Sprintf("%s%v", key.shader, consts)
	}
	src, err := shaders.Source(key.shader.String(), consts)
	if err != nil {
		return nil, err
	}
	return b.compile(key, name, src)
}

// compile builds the pipeline of the WGSL src as key's variant, named name
// in errors, and adds it to the cached variants.
func (b *Backend) compile(key kernelKey, name, src string) (*kernel, error) {
	mod, err := b.dev.CreateShaderModule(&wgpu.ShaderModuleDescriptor{
		Label:          key.shader.String(),
		WGSLDescriptor: &wgpu.ShaderModuleWGSLDescriptor{Code: src},
	})
	if err != nil {
		return nil, fmt.Errorf("gpu: compile shader %s: %w", name, err)
	}
	defer mod.Release()
	layout, writable, err := b.layoutFor(name, src)
	if err != nil {
		return nil, err
	}
	pll, err := b.dev.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{BindGroupLayouts: []*wgpu.BindGroupLayout{layout}})
	if err != nil {
		layout.Release()
		return nil, fmt.Errorf("gpu: pipeline layout for shader %s: %w", name, err)
	}
	defer pll.Release()
	pl, err := newComputePipeline(b.dev, key.shader.String(), pll, mod)
	if err != nil {
		layout.Release()
		return nil, fmt.Errorf("gpu: build pipeline for shader %s: %w", name, err)
	}
	k := &kernel{id: len(b.kernels) + 1, key: key, name: name, pipeline: pl, layout: layout, writable: writable}
	b.kernels = append(b.kernels, k)
	b.variants[key.shader] = append(b.variants[key.shader], k)
	return k, nil
}

var bindingDecl = regexp.MustCompile(`@binding\((\d+)\)\s*var<(uniform|storage,\s*read_write|storage,\s*read)>`)

// layoutFor builds the bind-group layout of a shader from its declarations:
// binding 0 is the uniform params block, bound with a dynamic offset so that
// one bind group serves every params slot; the others are storage buffers,
// read-only or read-write as declared, at most maxBindings of them. writable
// has bit i set for a read-write binding i+1.
func (b *Backend) layoutFor(name, src string) (l *wgpu.BindGroupLayout, writable uint8, err error) {
	var entries []wgpu.BindGroupLayoutEntry
	for _, m := range bindingDecl.FindAllStringSubmatch(src, -1) {
		n, _ := strconv.Atoi(m[1])
		if n > maxBindings {
			return nil, 0, fmt.Errorf("gpu: shader %s: binding %d, at most %d storage buffers", name, n, maxBindings)
		}
		e := wgpu.BindGroupLayoutEntry{Binding: uint32(n), Visibility: wgpu.ShaderStageCompute}
		switch {
		case m[2] == "uniform":
			e.Buffer = wgpu.BufferBindingLayout{Type: wgpu.BufferBindingTypeUniform, HasDynamicOffset: true, MinBindingSize: paramSlot}
		case strings.Contains(m[2], "read_write"):
			e.Buffer = wgpu.BufferBindingLayout{Type: wgpu.BufferBindingTypeStorage}
			if n > 0 {
				writable |= 1 << (n - 1)
			}
		default:
			e.Buffer = wgpu.BufferBindingLayout{Type: wgpu.BufferBindingTypeReadOnlyStorage}
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 || entries[0].Binding != 0 || entries[0].Buffer.Type != wgpu.BufferBindingTypeUniform {
		return nil, 0, fmt.Errorf("gpu: shader %s: binding 0 must be the uniform params block", name)
	}
	l, err = b.dev.CreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{Label: name, Entries: entries})
	if err != nil {
		return nil, 0, fmt.Errorf("gpu: bind group layout for shader %s: %w", name, err)
	}
	return l, writable, nil
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
	if err := endComputePass(b.pass); err != nil {
		b.fail(fmt.Errorf("gpu: end compute pass: %w", err))
	}
	b.pass.Release()
	b.pass = nil
	b.passPipeline = nil
}

// flush finishes the open command encoder, uploads the params arena and
// submits, all without waiting.
func (b *Backend) flush() {
	if b.enc == nil {
		return
	}
	b.endPass()
	b.submit()
}

// submit finishes the open command encoder, whose pass has ended, uploads
// the params arena and submits the command buffer.
func (b *Backend) submit() {
	defer scopeSubmit(b.dev)()
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
		if err := writeBuffer(b.queue, b.params, 0, b.paramsHost[:used*paramSlot]); err != nil {
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

// run records one dispatch of k's shader, which is not a tiled product (see
// product), with the params p on a gx×gy×models grid (see dispatch).
func run[P any](b *Backend, k opKernel[P], p *P, gx, gy, models uint32, ts ...*Tensor) {
	b.dispatch(kernelKey{shader: k.shader}, paramBytes(p), gx, gy, models, ts...)
}

// dispatch records one dispatch of kernel key on a grid of gx×gy×gz
// workgroups (gz: one layer of the grid per model of a model array; the
// shaders take the model from workgroup_id.z), with params (the bytes of the shader's params struct, see
// params.go) and the storage buffers ts (bindings 1, 2, … in order). A
// freed tensor panics, as does a tensor written by the dispatch that shares
// its buffer with one the dispatch reads (WebGPU forbids binding a buffer
// both ways in one dispatch).
func (b *Backend) dispatch(key kernelKey, params []byte, gx, gy, gz uint32, ts ...*Tensor) {
	if b.closed {
		panic("gpu: backend used after Close")
	}
	if b.lost {
		return
	}
	if gx == 0 || gy == 0 || gz == 0 {
		return
	}
	if maxG := b.limits.MaxComputeWorkgroupsPerDimension; gx > maxG || gy > maxG || gz > maxG {
		b.fail(fmt.Errorf("gpu: %s: grid %dx%dx%d exceeds the adapter's %d workgroups per dimension (the third is the models of an array)", key.shader, gx, gy, gz, maxG))
		return
	}
	k, err := b.kernelFor(key)
	if err != nil {
		b.fail(err)
		return
	}
	gk := groupKey{kernel: k.id}
	for i, t := range ts {
		if t.buf.freed {
			panic(fmt.Sprintf("gpu: %s: use of freed tensor %dx%d", key.shader, t.rows, t.cols))
		}
		gk.bind[i] = binding{t.buf.id, t.off, t.bindSize()}
	}
	g, ok := b.groups[gk]
	if !ok {
		if g = b.newGroup(k, gk, ts); g == nil {
			return
		}
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
	copy(b.paramsHost[slot*paramSlot:(slot+1)*paramSlot], params)
	b.encoder()
	if b.enc == nil {
		return
	}
	if b.pass == nil {
		b.beginPass()
	}
	var pl *wgpu.ComputePipeline
	if b.passPipeline != k.pipeline {
		pl, b.passPipeline = k.pipeline, k.pipeline
	}
	recordDispatch(b.pass, pl, g, uint32(slot*paramSlot), gx, gy, gz)
	b.stats.Dispatches++
}

// newGroup creates and caches the bind group of k over ts (gk is its key),
// after checking that no buffer is both written and read. It returns nil
// after recording a device error.
func (b *Backend) newGroup(k *kernel, gk groupKey, ts []*Tensor) *wgpu.BindGroup {
	for i, t := range ts {
		if k.writable&(1<<i) == 0 {
			continue
		}
		for j, u := range ts {
			if k.writable&(1<<j) == 0 && u.buf == t.buf {
				panic(fmt.Sprintf("gpu: %s: tensor %dx%d (binding %d) is written and shares its buffer with tensor %dx%d (binding %d), which is read",
					k.name, t.rows, t.cols, i+1, u.rows, u.cols, j+1))
			}
		}
	}
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
		entries = append(entries, wgpu.BindGroupEntry{Binding: uint32(i + 1), Buffer: t.buf.buf, Offset: t.off, Size: t.bindSize()})
	}
	g, err := b.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{Layout: k.layout, Entries: entries})
	if err != nil {
		b.fail(fmt.Errorf("gpu: bind group for shader %s: %w", k.name, err))
		return nil
	}
	b.groups[gk] = g
	return g
}

// groups1D is the grid of a grid-stride kernel with 256 invocations a
// workgroup over n elements.
func groups1D(n int) uint32 {
	return uint32(min((n+255)/256, elementwiseGroups))
}
