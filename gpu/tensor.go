package gpu

// Tensors and transfers: the buffers behind tensors, their views, uploads
// and readback through the staging buffer.

import (
	"fmt"
	"math"

	"github.com/cogentcore/webgpu/wgpu"
	"github.com/gputrain/gputrain/backend"
)

type buffer struct {
	id    uint64
	buf   *wgpu.Buffer
	size  uint64
	freed bool
}

// Tensor is a tensor on a Backend: models rows×cols matrices, model k's
// from element k·stride. Views and slices share their parent's buffer (and
// its stride); a slice starts off bytes into it.
type Tensor struct {
	b              *Backend
	buf            *buffer
	off            uint64
	rows, cols     int
	models, stride int
	dtype          backend.DType
	view           bool // a view or a slice: Free leaves the buffer alone
}

// Rows returns the number of rows.
func (t *Tensor) Rows() int { return t.rows }

// Cols returns the number of columns.
func (t *Tensor) Cols() int { return t.cols }

// DType returns the element type.
func (t *Tensor) DType() backend.DType { return t.dtype }

// Models returns the number of models.
func (t *Tensor) Models() int { return t.models }

// len is the number of elements of one model.
func (t *Tensor) len() int { return t.rows * t.cols }

// contiguous reports whether the models' elements follow one another with
// no gap (as NewArray lays them out; a view of fewer rows has gaps).
func (t *Tensor) contiguous() bool { return t.models == 1 || t.stride == t.len() }

// modelStride is the stride a shader steps through t by per model: t's
// stride, or 0 for a tensor of one model, which every model reads.
func modelStride(t *Tensor) uint32 {
	if t.models == 1 {
		return 0
	}
	return uint32(t.stride)
}

// bindSize is the number of bytes a dispatch binds t with, from its
// offset: up to the end of its last model's elements, rounded up to 16
// bytes (for the shaders' vec4 loads) and within the buffer. A slice is
// bound to its own extent, not to the buffer's end, because WebGPU forbids
// two writable bindings of overlapping ranges of one buffer in a dispatch
// (Dawn rejects them; wgpu-native did not check), and slices of one buffer
// are written together (the gradients of a layer's weights and bias).
// Slices start on 256-byte boundaries, so the rounding never reaches the
// next one.
func (t *Tensor) bindSize() uint64 {
	n := uint64((t.models-1)*t.stride + t.rows*t.cols)
	size := 4 * n
	if t.dtype == backend.Byte {
		size = (n + 3) / 4 * 4
	}
	size = (size + 15) / 16 * 16
	return min(size, t.buf.size-t.off)
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
func byteSize(models, rows, cols int, dt backend.DType) uint64 {
	n := uint64(models) * uint64(rows) * uint64(cols)
	if dt == backend.Byte {
		return (n + 3) / 4 * 4
	}
	return n * 4
}

// New allocates a zero-filled rows×cols tensor. It returns an error naming
// the limit when the tensor is larger than one storage binding may be.
func (b *Backend) New(rows, cols int, dt backend.DType) (backend.Tensor, error) {
	return b.NewArray(1, rows, cols, dt)
}

// NewArray allocates models zero-filled rows×cols matrices in one buffer,
// one after another. It returns an error naming the limit when they are
// larger than one storage binding may be.
func (b *Backend) NewArray(models, rows, cols int, dt backend.DType) (backend.Tensor, error) {
	backend.CheckNewArray(models, rows, cols, dt)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.usable(); err != nil {
		return nil, err
	}
	t, err := b.alloc(models, rows, cols, dt)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return t, nil
}

func (b *Backend) alloc(models, rows, cols int, dt backend.DType) (*Tensor, error) {
	size := byteSize(models, rows, cols, dt)
	if size > b.maxBinding {
		if models > 1 {
			return nil, fmt.Errorf("gpu: tensor of %d models of %dx%d %s needs %d bytes, more than the adapter's max storage-buffer binding size of %d bytes (%s)",
				models, rows, cols, dt, size, b.maxBinding, b.adapter.Name)
		}
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
	return &Tensor{b: b, buf: bb, rows: rows, cols: cols, models: models, stride: rows * cols, dtype: dt}, nil
}

// newLocked allocates a float tensor; b.mu must be held.
func (b *Backend) newLocked(rows, cols int) (*Tensor, error) {
	return b.alloc(1, rows, cols, backend.Float)
}

// View returns the first rows rows of t.
func (b *Backend) View(t backend.Tensor, rows int) backend.Tensor {
	backend.CheckView(t, rows)
	gt := b.tensor(t, "View")
	return &Tensor{b: b, buf: gt.buf, off: gt.off, rows: rows, cols: gt.cols, models: gt.models, stride: gt.stride, dtype: gt.dtype, view: true}
}

// Slice returns the rows×cols tensor over t's elements offset … offset +
// rows·cols − 1, sharing t's buffer: it is bound at a byte offset, which
// backend.SliceAlign elements of float32 (256 bytes, WebGPU's largest
// minStorageBufferOffsetAlignment) keep aligned on every adapter. One
// dispatch may not write a slice and read another slice of the same
// buffer: it panics (see dispatch).
func (b *Backend) Slice(t backend.Tensor, offset, rows, cols int) backend.Tensor {
	backend.CheckSlice(t, offset, rows, cols)
	gt := b.tensor(t, "Slice")
	return &Tensor{b: b, buf: gt.buf, off: gt.off + 4*uint64(offset), rows: rows, cols: cols, models: gt.models, stride: gt.stride, dtype: gt.dtype, view: true}
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
	releaseBuffer(gt.buf.buf)
	delete(b.buffers, gt.buf.id)
	b.stats.LiveBytes -= gt.buf.size
}

// dropGroups releases cached bind groups that bind buffer id.
func (b *Backend) dropGroups(id uint64) {
	for k, g := range b.groups {
		for _, x := range k.bind {
			if x.id == id {
				g.Release()
				delete(b.groups, k)
				break
			}
		}
	}
}

// write uploads data into t after submitting any recorded work, so that the
// upload lands after the operations recorded before it. data holds the
// models one after another; a tensor whose models have gaps between them
// (a view) takes one write per model. Only 4-byte elements have gaps.
func (b *Backend) write(t *Tensor, data []byte) error {
	if err := b.usable(); err != nil {
		return err
	}
	b.flush()
	if t.contiguous() {
		return b.writeAt(t, t.off, data)
	}
	n := 4 * t.len()
	for k := range t.models {
		if err := b.writeAt(t, t.off+4*uint64(k*t.stride), data[k*n:(k+1)*n]); err != nil {
			return err
		}
	}
	return nil
}

func (b *Backend) writeAt(t *Tensor, off uint64, data []byte) error {
	if err := writeBuffer(b.queue, t.buf.buf, off, data); err != nil {
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
	buf := make([]byte, byteSize(gt.models, gt.rows, gt.cols, backend.Byte))
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
		gts[i], sizes[i] = gt, uint64(4*gt.models*gt.len())
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
		v := make([]float64, gt.models*gt.len())
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
		if t.contiguous() {
			if err := b.enc.CopyBufferToBuffer(t.buf.buf, t.off, b.staging, off, sizes[i]); err != nil {
				b.fail(fmt.Errorf("copy to staging: %w", err))
			}
			off += sizes[i]
			continue
		}
		n := sizes[i] / uint64(t.models)
		for k := range t.models {
			if err := b.enc.CopyBufferToBuffer(t.buf.buf, t.off+4*uint64(k*t.stride), b.staging, off, n); err != nil {
				b.fail(fmt.Errorf("copy to staging: %w", err))
			}
			off += n
		}
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
		releaseBuffer(b.staging)
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
