package gpu

// Recording and dispatch: the per-step path. Pipelines are compiled once per
// shader variant, bind groups cached, and every operation becomes one
// dispatch in the open compute pass, its scalars in a slot of the params
// arena that flush uploads with the submit.

import (
	"fmt"
	"math"
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
	// elementwiseGroups caps the workgroups of grid-stride kernels, which
	// bounds the size of a dispatch (driver watchdogs kill very long ones
	// less often when work is spread over several smaller dispatches).
	elementwiseGroups = 4096
)

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
