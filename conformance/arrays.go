package conformance

import (
	"fmt"

	"github.com/gputrain/gputrain/backend"
)

// arrays runs every other check of the suite on model arrays: each check's
// tensors become tensors of N models on the candidate, of which the check
// sees one, model k, through arrayed (a backend.Backend over the
// candidate). Every operation the check records runs on all N models in
// the candidate's one operation, the other models holding other data
// (the check's values rotated by one more than the model's number: the same values,
// valid as labels or indices, in other places), and the check compares
// model k with the reference under its own bounds: the derived bounds of
// the one-model cases, since model k of an operation must equal the
// operation on model k's inputs alone. A kernel that mixes models up
// (reads model 0's weights for every model, or the wrong model's rows)
// fails there.
//
// Two variants, on N that are not powers of two and a model other than
// the first: N = 3, model 2, with every tensor of N models (per-model
// index lists, per-model data sets); and N = 5, model 3, with every input
// that no operation has written yet (data sets, targets, index lists,
// hyperparameter tables, weights written by the host) passed as one
// shared model, the broadcast form, and the outputs as N models. The
// check's shapes are its own: odd sizes that are multiples of no tile.
// Under Quick the training run is left out, and under Full the large
// product (the checks run at most at Standard size).
func arrays(r reporter, b backend.Backend) {
	r = standardAtMost{r}
	for _, v := range []struct {
		models, model int
		shared        bool
	}{{3, 2, false}, {5, 3, true}} {
		name := fmt.Sprintf("N=%d/model=%d", v.models, v.model)
		if v.shared {
			name += "/shared-inputs"
		}
		r.run(name, func(r reporter) {
			for _, c := range checks {
				if c.name == "Arrays" || (c.name == "TrainingRun" && r.size() == Quick) {
					continue
				}
				r.run(c.name, func(r reporter) {
					a := &arrayed{b: b, r: r, models: v.models, model: v.model, shared: v.shared}
					r.Cleanup(a.free)
					c.f(r, a)
				})
			}
		})
	}
}

// standardAtMost is a reporter whose size is at most Standard.
type standardAtMost struct{ reporter }

func (s standardAtMost) size() Size { return min(s.reporter.size(), Standard) }

func (s standardAtMost) run(name string, f func(reporter)) {
	s.reporter.run(name, func(r reporter) { f(standardAtMost{r}) })
}

// arrayed is a backend.Backend whose tensors are model k of tensors of
// models models on b (see arrays). Its tensors report one model.
type arrayed struct {
	b             backend.Backend
	r             reporter
	models, model int
	// shared passes an input that no operation has written as a tensor of
	// one model, written with model k's values.
	shared bool
	roots  []*arrayTensor // to free
}

// arrayTensor is one tensor of an arrayed backend: inner holds the
// models; one, when the backend shares inputs, a single model with model
// k's values as the host wrote them. root is the tensor that owns the
// storage (itself unless a view or a slice), whose written flag says that
// an operation wrote some of it since the host last did.
type arrayTensor struct {
	inner, one backend.Tensor
	root       *arrayTensor
	written    bool
}

func (t *arrayTensor) Rows() int            { return t.inner.Rows() }
func (t *arrayTensor) Cols() int            { return t.inner.Cols() }
func (t *arrayTensor) DType() backend.DType { return t.inner.DType() }
func (t *arrayTensor) Models() int          { return 1 }

func (a *arrayed) free() {
	for _, t := range a.roots {
		if t.one != nil {
			a.b.Free(t.one)
		}
		a.b.Free(t.inner)
	}
	a.roots = nil
}

// out unwraps a tensor an operation writes (nil stays nil) and marks it
// written.
func (a *arrayed) out(t backend.Tensor) backend.Tensor {
	if t == nil {
		return nil
	}
	at := t.(*arrayTensor)
	at.root.written = true
	return at.inner
}

// in unwraps a tensor an operation reads: its single shared model when the
// backend shares inputs and no operation has written it, else its models.
func (a *arrayed) in(t backend.Tensor) backend.Tensor {
	if t == nil {
		return nil
	}
	at := t.(*arrayTensor)
	if at.one != nil && !at.root.written {
		return at.one
	}
	return at.inner
}

func (a *arrayed) Info() backend.Info { return a.b.Info() }

func (a *arrayed) New(rows, cols int, dt backend.DType) (backend.Tensor, error) {
	return a.NewArray(1, rows, cols, dt)
}

// NewArray allocates a tensor of a.models models (and, sharing inputs, one
// of a single model). The check asks for one model.
func (a *arrayed) NewArray(models, rows, cols int, dt backend.DType) (backend.Tensor, error) {
	if models != 1 {
		panic("conformance: the arrays check wraps checks of one model")
	}
	inner, err := a.b.NewArray(a.models, rows, cols, dt)
	if err != nil {
		return nil, err
	}
	t := &arrayTensor{inner: inner}
	t.root = t
	if a.shared {
		if t.one, err = a.b.New(rows, cols, dt); err != nil {
			a.b.Free(inner)
			return nil, err
		}
	}
	a.roots = append(a.roots, t)
	return t, nil
}

func (a *arrayed) View(t backend.Tensor, rows int) backend.Tensor {
	at := t.(*arrayTensor)
	v := &arrayTensor{inner: a.b.View(at.inner, rows), root: at.root}
	if at.one != nil {
		v.one = a.b.View(at.one, rows)
	}
	return v
}

func (a *arrayed) Slice(t backend.Tensor, offset, rows, cols int) backend.Tensor {
	at := t.(*arrayTensor)
	s := &arrayTensor{inner: a.b.Slice(at.inner, offset, rows, cols), root: at.root}
	if at.one != nil {
		s.one = a.b.Slice(at.one, offset, rows, cols)
	}
	return s
}

func (a *arrayed) Free(t backend.Tensor) {
	at := t.(*arrayTensor)
	if at.root != at {
		return
	}
	for i, x := range a.roots {
		if x == at {
			a.roots = append(a.roots[:i], a.roots[i+1:]...)
			break
		}
	}
	if at.one != nil {
		a.b.Free(at.one)
	}
	a.b.Free(at.inner)
}

// spread returns the models' values: model k's are src, model j's src
// rotated by j+1 places (so that no other model, model 0 included, holds
// the same values unless src is too short to differ).
func spread[E any](a *arrayed, src []E) []E {
	out := make([]E, 0, a.models*len(src))
	for j := range a.models {
		if j == a.model || len(src) == 0 {
			out = append(out, src...)
			continue
		}
		r := (j + 1) % len(src)
		out = append(out, src[r:]...)
		out = append(out, src[:r]...)
	}
	return out
}

// write writes src to t's models (spread) and to its shared model.
func write[E any](a *arrayed, t backend.Tensor, src []E, w func(backend.Tensor, []E) error) error {
	at := t.(*arrayTensor)
	if err := w(at.inner, spread(a, src)); err != nil {
		return err
	}
	if at.root == at {
		at.written = false // both copies hold what the host wrote
	}
	if at.one != nil {
		return w(at.one, src)
	}
	return nil
}

func (a *arrayed) WriteFloats(t backend.Tensor, src []float64) error {
	backend.CheckWrite("WriteFloats", t, backend.Float, len(src))
	return write(a, t, src, a.b.WriteFloats)
}

func (a *arrayed) WriteBytes(t backend.Tensor, src []byte) error {
	backend.CheckWrite("WriteBytes", t, backend.Byte, len(src))
	return write(a, t, src, a.b.WriteBytes)
}

func (a *arrayed) WriteIndices(t backend.Tensor, src []uint32) error {
	backend.CheckWrite("WriteIndices", t, backend.Index, len(src))
	return write(a, t, src, a.b.WriteIndices)
}

// pick returns model k of the models' values v of t.
func (a *arrayed) pick(t backend.Tensor, v []float64) []float64 {
	n := t.Rows() * t.Cols()
	return v[a.model*n : (a.model+1)*n]
}

func (a *arrayed) ReadFloats(t backend.Tensor) ([]float64, error) {
	v, err := a.b.ReadFloats(t.(*arrayTensor).inner)
	if err != nil {
		return nil, err
	}
	return a.pick(t, v), nil
}

// ReadFloatsAll reads through backend.ReadAll on the candidate, so that a
// MultiReader candidate is read as one.
func (a *arrayed) ReadFloatsAll(ts ...backend.Tensor) ([][]float64, error) {
	inner := make([]backend.Tensor, len(ts))
	for i, t := range ts {
		inner[i] = t.(*arrayTensor).inner
	}
	vs, err := backend.ReadAll(a.b, inner...)
	if err != nil {
		return nil, err
	}
	for i, t := range ts {
		vs[i] = a.pick(t, vs[i])
	}
	return vs, nil
}

func (a *arrayed) MatMul(c, x, y backend.Tensor, transA, transB bool) {
	xi, yi := a.in(x), a.in(y)
	a.b.MatMul(a.out(c), xi, yi, transA, transB)
}

func (a *arrayed) BiasActivate(y, bias backend.Tensor, act backend.Activation) {
	bi := a.in(bias)
	a.b.BiasActivate(a.out(y), bi, act)
}

// drop returns d for the candidate's array: its model word moved back by
// k, so that model k draws the mask the check's one model draws (see
// backend.Dropout.Model).
func (a *arrayed) drop(d backend.Dropout) backend.Dropout {
	if d.On() {
		d.Model -= a.model
	}
	return d
}

func (a *arrayed) MatMulBiasActivate(y, x, w, bias backend.Tensor, act backend.Activation, drop backend.Dropout) {
	xi, wi, bi := a.in(x), a.in(w), a.in(bias)
	a.b.MatMulBiasActivate(a.out(y), xi, wi, bi, act, a.drop(drop))
}

func (a *arrayed) GatherMatMulBiasActivate(x, src, idx backend.Tensor, offset int, scale float64, y, w, bias backend.Tensor, act backend.Activation, drop backend.Dropout) {
	s, i, wi, bi := a.in(src), a.in(idx), a.in(w), a.in(bias)
	a.b.GatherMatMulBiasActivate(a.out(x), s, i, offset, scale, a.out(y), wi, bi, act, a.drop(drop))
}

func (a *arrayed) MatMulActivationGrad(dz, g, w, y backend.Tensor, transW bool, act backend.Activation, drop backend.Dropout) {
	gi, wi, yi := a.in(g), a.in(w), a.in(y)
	a.b.MatMulActivationGrad(a.out(dz), gi, wi, yi, transW, act, a.drop(drop))
}

func (a *arrayed) ActivationGrad(d, y backend.Tensor, act backend.Activation) {
	yi := a.in(y)
	a.b.ActivationGrad(a.out(d), yi, act)
}

func (a *arrayed) ColumnSum(dst, src backend.Tensor) {
	s := a.in(src)
	a.b.ColumnSum(a.out(dst), s)
}

func (a *arrayed) MatMulColumnSum(dw, db, x, dy backend.Tensor) {
	xi, dyi := a.in(x), a.in(dy)
	a.b.MatMulColumnSum(a.out(dw), a.out(db), xi, dyi)
}

func (a *arrayed) LossGrad(loss, grad, out, target backend.Tensor, kind backend.Loss) {
	o, t := a.in(out), a.in(target)
	a.b.LossGrad(a.out(loss), a.out(grad), o, t, kind)
}

func (a *arrayed) CountCorrect(count, out, target backend.Tensor, kind backend.Loss) {
	o, t := a.in(out), a.in(target)
	a.b.CountCorrect(a.out(count), o, t, kind)
}

func (a *arrayed) LossGradCount(loss, count, grad, out, target, idx backend.Tensor, offset int, kind backend.Loss, weights backend.Tensor) {
	o, t, i, w := a.in(out), a.in(target), a.in(idx), a.in(weights)
	a.b.LossGradCount(a.out(loss), a.out(count), a.out(grad), o, t, i, offset, kind, w)
}

func (a *arrayed) Gather(dst, src, idx backend.Tensor, offset int, scale float64) {
	s, i := a.in(src), a.in(idx)
	a.b.Gather(a.out(dst), s, i, offset, scale)
}

func (a *arrayed) Fill(t backend.Tensor, v float64) { a.b.Fill(a.out(t), v) }

func (a *arrayed) SGD(w, g, hp, decay backend.Tensor) {
	gi, h, d := a.in(g), a.in(hp), a.in(decay)
	a.b.SGD(a.out(w), gi, h, d)
}

func (a *arrayed) SGDCompensated(w, g, c, hp backend.Tensor) {
	gi, h := a.in(g), a.in(hp)
	a.b.SGDCompensated(a.out(w), gi, a.out(c), h)
}

func (a *arrayed) Momentum(w, g, v, hp, decay backend.Tensor) {
	gi, h, d := a.in(g), a.in(hp), a.in(decay)
	a.b.Momentum(a.out(w), gi, a.out(v), h, d)
}

func (a *arrayed) Adam(w, g, m, v, hp, decay backend.Tensor, step int) {
	gi, h, d := a.in(g), a.in(hp), a.in(decay)
	a.b.Adam(a.out(w), gi, a.out(m), a.out(v), h, d, step)
}

func (a *arrayed) GradNormSq(hp, g backend.Tensor) {
	gi := a.in(g)
	a.b.GradNormSq(a.out(hp), gi)
}

func (a *arrayed) Sync() error { return a.b.Sync() }

// Close frees the arrays' tensors; the candidate stays open (its owner
// closes it).
func (a *arrayed) Close() error {
	a.free()
	return nil
}

var (
	_ backend.Backend     = (*arrayed)(nil)
	_ backend.MultiReader = (*arrayed)(nil)
)
