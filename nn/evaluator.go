package nn

import (
	"fmt"

	"github.com/gputrain/gputrain/backend"
)

// evaluator records a model's forward pass over a labelled set kept on the
// device, in chunks of at most chunk rows: each chunk's rows are gathered
// inside the first layer's product (forwardGather), and its loss and
// correct count accumulate in two 1×1 tensors through one fused
// LossGradCount that reads the targets through the same identity order (no
// gather of its own). Nothing is read back: Evaluate reads the sums once,
// Train's validation with the epoch's training sums. It is the one
// evaluation loop of both.
type evaluator struct {
	m        *Model
	set      *Set
	rows     int // rows evaluated (per model)
	x, t     backend.Tensor
	scale    float64
	ws, last *workspace
	chunk    int
	order    backend.Tensor // the identity 0..max(rows, orderLen)-1
	loss     backend.Tensor
	count    backend.Tensor // nil for regression
}

// newEvaluator uploads s (which has labels and fits m) and allocates the
// buffers of chunks of at most chunk rows (0 or more than s.Rows: the whole
// set at once), with an identity order of at least orderLen indices. what
// names the evaluation in errors.
func newEvaluator(a *allocator, m *Model, s *Set, chunk, orderLen int, what string) (*evaluator, error) {
	b := m.b
	if chunk <= 0 || chunk > s.Rows {
		chunk = s.Rows
	}
	e := &evaluator{m: m, set: s, rows: s.Rows, chunk: chunk}
	var err error
	if e.x, e.t, e.scale, err = m.upload(a, s); err != nil {
		return nil, err
	}
	e.ws = m.newWorkspace(a, chunk, false)
	n := max(s.Rows, orderLen)
	e.order = a.new(n, 1, backend.Index) // shared by the models
	e.loss = a.newArray(m.models(), 1, 1, backend.Float)
	if m.Spec.Head.Classifies() {
		e.count = a.newArray(m.models(), 1, 1, backend.Float)
	}
	if a.err != nil {
		return nil, fmt.Errorf("nn: allocating %s buffers for %v, %d rows: %w", what, m.Spec, s.Rows, a.err)
	}
	e.last = e.ws.view(b, s.Rows-(s.Rows-1)/chunk*chunk)
	ord := make([]uint32, n)
	for i := range ord {
		ord[i] = uint32(i)
	}
	if err := b.WriteIndices(e.order, ord); err != nil {
		return nil, fmt.Errorf("nn: writing the %s row order: %w", what, err)
	}
	return e, nil
}

// newRowsEvaluator is an evaluator of m's models on rows of a set already
// on the device (x and t, gathered with scale): model k on the rows that
// model k of order lists (order: an Index tensor of m's models, rows
// indices each), in chunks of at most chunk rows. It is how an Array's
// members validate on rows of their training set (k-fold).
func newRowsEvaluator(a *allocator, m *Model, x, t backend.Tensor, scale float64, order backend.Tensor, rows, chunk int) (*evaluator, error) {
	if chunk <= 0 || chunk > rows {
		chunk = rows
	}
	e := &evaluator{m: m, x: x, t: t, scale: scale, order: order, rows: rows, chunk: chunk}
	e.ws = m.newWorkspace(a, chunk, false)
	e.loss = a.newArray(m.models(), 1, 1, backend.Float)
	if m.Spec.Head.Classifies() {
		e.count = a.newArray(m.models(), 1, 1, backend.Float)
	}
	if a.err != nil {
		return nil, fmt.Errorf("nn: allocating validation buffers for %v, %d rows: %w", m.Spec, rows, a.err)
	}
	e.last = e.ws.view(m.b, rows-(rows-1)/chunk*chunk)
	return e, nil
}

// record records the evaluation of the model's current parameters: the
// loss and correct count restart from zero and accumulate over the chunks.
func (e *evaluator) record() {
	b, m := e.m.b, e.m
	kind := m.Spec.Head.Loss()
	b.Fill(e.loss, 0)
	if e.count != nil {
		b.Fill(e.count, 0)
	}
	n := e.rows
	for off := 0; off < n; off += e.chunk {
		w := e.ws
		if off+e.chunk >= n {
			w = e.last
		}
		m.forwardGather(w, e.x, e.order, off, e.scale, dropout{})
		b.LossGradCount(e.loss, e.count, w.ds[len(w.ds)-1], m.out(w), e.t, e.order, off, kind, nil)
	}
}
