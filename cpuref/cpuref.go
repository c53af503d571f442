// Package cpuref is gputrain's reference backend: every operation of
// backend.Backend computed in float64 on the CPU, with gonum's BLAS for the
// matrix products. It is the oracle that the GPU's float32 results are checked
// against, and it is also the `--device cpu` backend, so its operations work
// in place on preallocated storage and allocate nothing per call.
package cpuref

import (
	"fmt"
	"runtime"

	"github.com/gputrain/gputrain/backend"
)

// Backend computes backend operations in float64. Operations run as they are
// called; Sync has nothing to wait for. Create it with New.
type Backend struct {
	closed bool
	live   int
}

// New returns a reference backend.
func New() *Backend { return &Backend{} }

// Tensor is a tensor of a reference Backend. A view shares its parent's
// storage (the first rows of it).
type Tensor struct {
	b          *Backend
	rows, cols int
	dtype      backend.DType
	f          []float64
	u8         []byte
	idx        []uint32
	parent     *Tensor // nil unless a view
	freed      bool
}

// Rows returns the number of rows.
func (t *Tensor) Rows() int { return t.rows }

// Cols returns the number of columns.
func (t *Tensor) Cols() int { return t.cols }

// DType returns the element type.
func (t *Tensor) DType() backend.DType { return t.dtype }

// Data returns the float64 storage of a Float tensor, row-major, without a
// copy. It panics for other types.
func (t *Tensor) Data() []float64 {
	if t.dtype != backend.Float {
		panic(fmt.Sprintf("cpuref: Data of a %s tensor", t.dtype))
	}
	return t.f
}

func (t *Tensor) isFreed() bool {
	if t.parent != nil {
		return t.parent.freed
	}
	return t.freed
}

// Info describes the reference backend.
func (b *Backend) Info() backend.Info {
	return backend.Info{
		Kind:        "cpu",
		API:         "cpu",
		Adapter:     fmt.Sprintf("Go float64 reference (gonum), %d cores", runtime.NumCPU()),
		AdapterType: "cpu",
		Precision:   "float64",
	}
}

// Live returns the number of tensors allocated and not freed.
func (b *Backend) Live() int { return b.live }

func (b *Backend) tensor(t backend.Tensor, op string) *Tensor {
	if b.closed {
		panic("cpuref: backend used after Close")
	}
	ct, ok := t.(*Tensor)
	if !ok || ct.b != b {
		panic(fmt.Sprintf("cpuref: %s: tensor %dx%d does not belong to this backend", op, t.Rows(), t.Cols()))
	}
	if ct.isFreed() {
		panic(fmt.Sprintf("cpuref: %s: use of freed tensor %dx%d", op, t.Rows(), t.Cols()))
	}
	return ct
}

// New allocates a zero-filled rows×cols tensor of type dt. It never fails
// for want of memory short of the Go runtime's own out-of-memory crash; it
// returns an error only for tensors larger than 2³¹ elements.
func (b *Backend) New(rows, cols int, dt backend.DType) (backend.Tensor, error) {
	backend.CheckNew(rows, cols, dt)
	if b.closed {
		panic("cpuref: backend used after Close")
	}
	n := rows * cols
	if rows > 1<<31/cols {
		return nil, fmt.Errorf("cpuref: tensor %dx%d has more than 2^31 elements", rows, cols)
	}
	t := &Tensor{b: b, rows: rows, cols: cols, dtype: dt}
	switch dt {
	case backend.Float:
		t.f = make([]float64, n)
	case backend.Byte:
		t.u8 = make([]byte, n)
	case backend.Index:
		t.idx = make([]uint32, n)
	}
	b.live++
	return t, nil
}

// View returns the first rows rows of t, sharing its storage.
func (b *Backend) View(t backend.Tensor, rows int) backend.Tensor {
	backend.CheckView(t, rows)
	ct := b.tensor(t, "View")
	root := ct
	if ct.parent != nil {
		root = ct.parent
	}
	n := rows * ct.cols
	v := &Tensor{b: b, rows: rows, cols: ct.cols, dtype: ct.dtype, parent: root}
	switch ct.dtype {
	case backend.Float:
		v.f = ct.f[:n:n]
	case backend.Byte:
		v.u8 = ct.u8[:n:n]
	case backend.Index:
		v.idx = ct.idx[:n:n]
	}
	return v
}

// Free releases t. Freeing a view does nothing.
func (b *Backend) Free(t backend.Tensor) {
	if b.closed {
		return
	}
	ct := b.tensor(t, "Free")
	if ct.parent != nil {
		return
	}
	ct.freed = true
	ct.f, ct.u8, ct.idx = nil, nil, nil
	b.live--
}

// WriteFloats copies src into the Float tensor t.
func (b *Backend) WriteFloats(t backend.Tensor, src []float64) error {
	backend.CheckWrite("WriteFloats", t, backend.Float, len(src))
	copy(b.tensor(t, "WriteFloats").f, src)
	return nil
}

// WriteBytes copies src into the Byte tensor t.
func (b *Backend) WriteBytes(t backend.Tensor, src []byte) error {
	backend.CheckWrite("WriteBytes", t, backend.Byte, len(src))
	copy(b.tensor(t, "WriteBytes").u8, src)
	return nil
}

// WriteIndices copies src into the Index tensor t.
func (b *Backend) WriteIndices(t backend.Tensor, src []uint32) error {
	backend.CheckWrite("WriteIndices", t, backend.Index, len(src))
	copy(b.tensor(t, "WriteIndices").idx, src)
	return nil
}

// ReadFloats returns a copy of the Float tensor t.
func (b *Backend) ReadFloats(t backend.Tensor) ([]float64, error) {
	ct := b.tensor(t, "ReadFloats")
	if ct.dtype != backend.Float {
		panic(fmt.Sprintf("cpuref: ReadFloats: tensor %dx%d is of type %s", ct.rows, ct.cols, ct.dtype))
	}
	return append([]float64(nil), ct.f...), nil
}

// Sync returns nil: operations have already run.
func (b *Backend) Sync() error {
	if b.closed {
		panic("cpuref: backend used after Close")
	}
	return nil
}

// Close marks the backend closed; its tensors are left to the garbage
// collector.
func (b *Backend) Close() error {
	b.closed = true
	b.live = 0
	return nil
}

var _ backend.Backend = (*Backend)(nil)
