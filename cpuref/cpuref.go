// Package cpuref is gputrain's reference backend: every operation of
// backend.Backend computed in float64 on the CPU: matrix products through
// package internal/gemm (register-blocked, with AVX-512 and AVX2/FMA
// kernels, checked against a textbook loop and batch-invariant), a layer's
// bias, activation and dropout as its product's epilogue, sigmoid layers
// four at a time with AVX2 (within 3 ulp of math.Exp's), the rest in Go.
// Work is spread over the cores only where that was measured to pay: large
// products and elementwise operations (parallel.go), the models of an
// array (models.go) and a lone model's wide input layer (owned.go), always
// with the bits of one core.
//
// It is the oracle that the GPU's float32 results are checked against (see
// package conformance), and it is also the `--device cpu` backend, so
// its operations work in place on storage allocated by New and allocate
// nothing per call once their buffers are warm.
//
// Operations execute when they are called; Sync has nothing to wait for.
// Shape mistakes panic with the messages of package backend's Check
// functions, so the reference and the GPU fail alike; using a freed tensor, a
// tensor of another backend, or a closed backend panics with a message that
// starts with "cpuref:".
package cpuref

import (
	"fmt"
	"runtime"

	"github.com/gputrain/gputrain/backend"
)

// maxElements bounds the elements of one tensor, so that index arithmetic in
// int stays far from overflow on every platform.
const maxElements = 1 << 31

// Backend computes backend operations in float64. Create it with New. A
// Backend is not safe for concurrent use.
type Backend struct {
	closed  bool
	tensors []*Tensor // live root tensors; Tensor.slot indexes this

	// args are the operands of the operation in progress and models its
	// loop, for model arrays spread over the cores (models.go).
	args   opArgs
	models modelsJob
	// epis holds the product epilogue of each model of the operation in
	// progress (fused layers, models.go), grown to the largest array.
	epis []epilogue
	// scratch holds the partial products of a layer cut by owner
	// (owned.go), grown to the largest; owned records, per storage, the
	// rows of the weight gradient that were cut by owner.
	scratch []float64
	owned   []ownedRows
	// ownedForwards counts the forward products cut by owner (for tests).
	ownedForwards int
}

// New returns an empty reference backend.
func New() *Backend { return &Backend{} }

// Tensor is a tensor of a reference Backend: models rows×cols row-major
// matrices whose elements are held in exactly one of f (Float), u8 (Byte) or
// idx (Index), model k's from element k·stride. A view shares its root's
// storage: the first rows·cols elements of each model.
type Tensor struct {
	b              *Backend
	rows, cols     int
	models, stride int
	dtype          backend.DType
	f              []float64
	u8             []byte
	idx            []uint32
	root           *Tensor // the tensor that owns the storage; itself unless a view
	off            int     // the first element of f in root's storage
	slot           int     // position in b.tensors while live (roots only)
	freed          bool
}

// Rows returns the number of rows.
func (t *Tensor) Rows() int { return t.rows }

// Cols returns the number of columns.
func (t *Tensor) Cols() int { return t.cols }

// DType returns the element type.
func (t *Tensor) DType() backend.DType { return t.dtype }

// Models returns the number of models.
func (t *Tensor) Models() int { return t.models }

// span is the number of elements from model 0's first to the last model's
// last.
func (t *Tensor) span() int { return (t.models-1)*t.stride + t.rows*t.cols }

// fm returns model k's rows·cols elements of a Float tensor; a tensor of one
// model gives its only one for every k (a broadcast input).
func (t *Tensor) fm(k int) []float64 {
	if t.models == 1 {
		k = 0
	}
	o := k * t.stride
	return t.f[o : o+t.rows*t.cols : o+t.rows*t.cols]
}

// um and im are fm for a Byte and an Index tensor.
func (t *Tensor) um(k int) []byte {
	if t.models == 1 {
		k = 0
	}
	o := k * t.stride
	return t.u8[o : o+t.rows*t.cols]
}

func (t *Tensor) im(k int) []uint32 {
	if t.models == 1 {
		k = 0
	}
	o := k * t.stride
	return t.idx[o : o+t.rows*t.cols]
}

// model returns model k of t (model 0 for a tensor of one model) as a
// one-model tensor sharing its storage, for operations built from others.
func (t *Tensor) model(k int) *Tensor {
	if t.models == 1 {
		return t
	}
	m := *t
	m.models, m.stride = 1, t.rows*t.cols
	o, n := k*t.stride, t.rows*t.cols
	switch t.dtype {
	case backend.Float:
		m.f = t.f[o : o+n : o+n]
	case backend.Byte:
		m.u8 = t.u8[o : o+n : o+n]
	case backend.Index:
		m.idx = t.idx[o : o+n : o+n]
	}
	return &m
}

// Data returns the storage of a Float tensor, row-major (len Rows·Cols for
// a tensor of one model; model k's elements start at k times the model
// stride, which is Rows·Cols for a tensor made by NewArray), without a
// copy: writes to it change the tensor. It panics for a Byte or Index
// tensor and for a freed tensor.
func (t *Tensor) Data() []float64 {
	if t.root.freed {
		panic(fmt.Sprintf("cpuref: Data: use of freed tensor %dx%d", t.rows, t.cols))
	}
	if t.dtype != backend.Float {
		panic(fmt.Sprintf("cpuref: Data of a %s tensor", t.dtype))
	}
	return t.f
}

// Indices returns the storage of an Index tensor as Data does a Float
// tensor's. It panics for another type and for a freed tensor.
func (t *Tensor) Indices() []uint32 {
	if t.root.freed {
		panic(fmt.Sprintf("cpuref: Indices: use of freed tensor %dx%d", t.rows, t.cols))
	}
	if t.dtype != backend.Index {
		panic(fmt.Sprintf("cpuref: Indices of a %s tensor", t.dtype))
	}
	return t.idx
}

// Info describes the reference backend: Kind and API "cpu", Precision
// "float64".
func (b *Backend) Info() backend.Info {
	return backend.Info{
		Kind:        "cpu",
		API:         "cpu",
		Adapter:     fmt.Sprintf("Go float64 reference, %d cores", runtime.NumCPU()),
		AdapterType: "cpu",
		Precision:   "float64",
	}
}

// Live returns the number of tensors allocated and not yet freed (views are
// not counted). It is zero after Close.
func (b *Backend) Live() int { return len(b.tensors) }

// tensor returns t as a tensor of b, panicking if b is closed, t belongs to
// another backend, or t (or the tensor it views) has been freed.
func (b *Backend) tensor(t backend.Tensor, op string) *Tensor {
	if b.closed {
		panic(fmt.Sprintf("cpuref: %s: backend used after Close", op))
	}
	ct, ok := t.(*Tensor)
	if !ok {
		panic(fmt.Sprintf("cpuref: %s: tensor %dx%d (%T) does not belong to this backend", op, t.Rows(), t.Cols(), t))
	}
	if ct.b != b {
		panic(fmt.Sprintf("cpuref: %s: tensor %dx%d belongs to another cpuref backend", op, t.Rows(), t.Cols()))
	}
	if ct.root.freed {
		panic(fmt.Sprintf("cpuref: %s: use of freed tensor %dx%d", op, t.Rows(), t.Cols()))
	}
	return ct
}

// floats returns the storage of the Float tensor t of b (see tensor).
func (b *Backend) floats(t backend.Tensor, op string) []float64 { return b.tensor(t, op).f }

// New allocates a zero-filled rows×cols tensor of type dt. It panics if rows
// or cols is less than 1, dt is unknown, or b is closed, and returns an error
// for a tensor of more than 2³¹ elements.
func (b *Backend) New(rows, cols int, dt backend.DType) (backend.Tensor, error) {
	return b.NewArray(1, rows, cols, dt)
}

// NewArray allocates models zero-filled rows×cols matrices of type dt, one
// after another. It panics if models, rows or cols is less than 1, dt is
// unknown, or b is closed, and returns an error for a tensor of more than
// 2³¹ elements in all.
func (b *Backend) NewArray(models, rows, cols int, dt backend.DType) (backend.Tensor, error) {
	backend.CheckNewArray(models, rows, cols, dt)
	if b.closed {
		panic("cpuref: New: backend used after Close")
	}
	if rows > maxElements/cols || models > maxElements/(rows*cols) {
		return nil, fmt.Errorf("cpuref: New: tensor %dx%d of %d models has more than the 2^31 elements one tensor may hold", rows, cols, models)
	}
	n := models * rows * cols
	t := &Tensor{b: b, rows: rows, cols: cols, models: models, stride: rows * cols, dtype: dt, slot: len(b.tensors)}
	t.root = t
	switch dt {
	case backend.Float:
		t.f = make([]float64, n)
	case backend.Byte:
		t.u8 = make([]byte, n)
	case backend.Index:
		t.idx = make([]uint32, n)
	}
	b.tensors = append(b.tensors, t)
	return t, nil
}

// View returns the first rows rows of t, sharing its storage. It panics if
// rows is outside [1, t.Rows()] or t is not a live tensor of b. A view of a
// view views the same root.
func (b *Backend) View(t backend.Tensor, rows int) backend.Tensor {
	backend.CheckView(t, rows)
	ct := b.tensor(t, "View")
	v := &Tensor{b: b, rows: rows, cols: ct.cols, models: ct.models, stride: ct.stride, dtype: ct.dtype, root: ct.root, off: ct.off, slot: -1}
	n := v.span()
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

// Slice returns the rows×cols tensor over the Float tensor t's elements
// offset … offset+rows·cols−1, sharing its storage (see backend.Backend's
// Slice; the reference has no alignment of its own but checks SliceAlign so
// that it panics where the GPU would). It panics if the slice does not lie
// inside t or t is not a live Float tensor of b.
func (b *Backend) Slice(t backend.Tensor, offset, rows, cols int) backend.Tensor {
	backend.CheckSlice(t, offset, rows, cols)
	ct := b.tensor(t, "Slice")
	s := &Tensor{b: b, rows: rows, cols: cols, models: ct.models, stride: ct.stride, dtype: backend.Float, root: ct.root, slot: -1}
	end := offset + s.span()
	s.f = ct.f[offset:end:end]
	s.off = ct.off + offset
	return s
}

// Free releases t's storage; later use of t or of its views panics. Freeing
// a view or a slice, or anything after Close (which freed every tensor),
// does nothing.
// It panics if t is not a live tensor of b.
func (b *Backend) Free(t backend.Tensor) {
	if b.closed {
		return
	}
	ct := b.tensor(t, "Free")
	if ct.root != ct {
		return
	}
	last := b.tensors[len(b.tensors)-1]
	b.tensors[ct.slot], last.slot = last, ct.slot
	b.tensors[len(b.tensors)-1] = nil
	b.tensors = b.tensors[:len(b.tensors)-1]
	b.forgetOwned(ct)
	ct.release()
}

// release marks a root tensor freed and drops its storage.
func (t *Tensor) release() {
	t.freed = true
	t.slot = -1
	t.f, t.u8, t.idx = nil, nil, nil
}

// WriteFloats copies src (len rows·cols) into the Float tensor t. It panics
// on a length or type mismatch; it never returns an error.
func (b *Backend) WriteFloats(t backend.Tensor, src []float64) error {
	backend.CheckWrite("WriteFloats", t, backend.Float, len(src))
	ct := b.tensor(t, "WriteFloats")
	for k := range ct.models {
		copy(ct.fm(k), src[k*ct.rows*ct.cols:])
	}
	return nil
}

// WriteBytes copies src (len rows·cols) into the Byte tensor t. It panics on
// a length or type mismatch; it never returns an error.
func (b *Backend) WriteBytes(t backend.Tensor, src []byte) error {
	backend.CheckWrite("WriteBytes", t, backend.Byte, len(src))
	ct := b.tensor(t, "WriteBytes")
	for k := range ct.models {
		copy(ct.um(k), src[k*ct.rows*ct.cols:])
	}
	return nil
}

// WriteIndices copies src (len rows·cols) into the Index tensor t. It panics
// on a length or type mismatch; it never returns an error.
func (b *Backend) WriteIndices(t backend.Tensor, src []uint32) error {
	backend.CheckWrite("WriteIndices", t, backend.Index, len(src))
	ct := b.tensor(t, "WriteIndices")
	for k := range ct.models {
		copy(ct.im(k), src[k*ct.rows*ct.cols:])
	}
	return nil
}

// ReadFloats returns a copy of the Float tensor t, row-major. It panics if t
// is not a Float tensor; it never returns an error.
func (b *Backend) ReadFloats(t backend.Tensor) ([]float64, error) {
	ct := b.tensor(t, "ReadFloats")
	if ct.dtype != backend.Float {
		panic(fmt.Sprintf("ReadFloats: tensor %dx%d %s is not of type float", ct.rows, ct.cols, ct.dtype))
	}
	out := make([]float64, 0, ct.models*ct.rows*ct.cols)
	for k := range ct.models {
		out = append(out, ct.fm(k)...)
	}
	return out, nil
}

// Sync returns nil: every operation has already run. It panics if b is
// closed.
func (b *Backend) Sync() error {
	if b.closed {
		panic("cpuref: Sync: backend used after Close")
	}
	return nil
}

// Close frees every tensor of b; b is unusable afterwards. Closing twice
// does nothing.
func (b *Backend) Close() error {
	for _, t := range b.tensors {
		t.release()
	}
	b.tensors = nil
	b.owned, b.scratch = nil, nil
	b.closed = true
	return nil
}

var _ backend.Backend = (*Backend)(nil)
