package nn

import (
	"fmt"
	"strings"

	"github.com/gputrain/gputrain/backend"
)

// workspace holds the per-batch buffers of a forward (and backward) pass,
// allocated once for the largest batch. Views of it serve smaller batches.
type workspace struct {
	rows int
	x, t backend.Tensor   // rows×Inputs input, rows×labelCols targets
	ys   []backend.Tensor // rows×out of each layer: activations, last = logits
	ds   []backend.Tensor // rows×out gradients w.r.t. ys (last one also used by Evaluate)
}

// newWorkspace allocates the buffers for batches of up to rows rows.
func (m *Model) newWorkspace(a *allocator, rows int, backward bool) *workspace {
	w := &workspace{rows: rows}
	w.x = a.new(rows, m.Spec.Inputs, backend.Float)
	w.t = a.new(rows, labelCols(m.Spec), backend.Float)
	n := len(m.layers)
	w.ys = make([]backend.Tensor, n)
	w.ds = make([]backend.Tensor, n)
	for i, l := range m.layers {
		w.ys[i] = a.new(rows, l.out, backend.Float)
		if backward || i == n-1 {
			w.ds[i] = a.new(rows, l.out, backend.Float)
		}
	}
	return w
}

// view returns a workspace over the first rows rows of w's buffers.
func (w *workspace) view(b backend.Backend, rows int) *workspace {
	if rows == w.rows {
		return w
	}
	v := &workspace{rows: rows, x: b.View(w.x, rows), t: b.View(w.t, rows),
		ys: make([]backend.Tensor, len(w.ys)), ds: make([]backend.Tensor, len(w.ds))}
	for i := range w.ys {
		v.ys[i] = b.View(w.ys[i], rows)
		if w.ds[i] != nil {
			v.ds[i] = b.View(w.ds[i], rows)
		}
	}
	return v
}

// forward records the forward pass from w.x to w.ys: one fused
// MatMulBiasActivate per layer.
func (m *Model) forward(w *workspace) {
	in := w.x
	for i, l := range m.layers {
		m.b.MatMulBiasActivate(w.ys[i], in, l.w, l.bias, l.act)
		in = w.ys[i]
	}
}

// out returns the logits (or raw outputs) of the last forward pass.
func (m *Model) out(w *workspace) backend.Tensor { return w.ys[len(w.ys)-1] }

// grads holds one gradient tensor per parameter, in the order of params.
type grads struct {
	params []backend.Tensor // w0, b0, w1, b1, ...
	g      []backend.Tensor // matching gradients
}

func (m *Model) newGrads(a *allocator) *grads {
	g := &grads{}
	for _, l := range m.layers {
		g.params = append(g.params, l.w, l.bias)
		g.g = append(g.g, a.new(l.in, l.out, backend.Float), a.new(1, l.out, backend.Float))
	}
	return g
}

// backward records the backward pass: w.ds[last] must hold dLoss/dLogits;
// it fills g with the parameter gradients, propagating through w.ds.
func (m *Model) backward(w *workspace, g *grads) {
	for i := len(m.layers) - 1; i >= 0; i-- {
		l := m.layers[i]
		in := w.x
		if i > 0 {
			in = w.ys[i-1]
		}
		dY := w.ds[i]
		m.b.MatMul(g.g[2*i], in, dY, true, false)
		m.b.ColumnSum(g.g[2*i+1], dY)
		if i > 0 {
			// dY·Wᵀ through the previous layer's activation, fused.
			m.b.MatMulActivationGrad(w.ds[i-1], dY, l.w, w.ys[i-1], true, m.layers[i-1].act)
		}
	}
}

// Optimizer names an update rule.
type Optimizer uint8

const (
	// SGD is w -= lr·g.
	SGD Optimizer = iota
	// Momentum is v = mu·v + g; w -= lr·v (mu 0.9 unless Config.Momentum says).
	Momentum
	// Adam is Adam with β1 0.9, β2 0.999 and eps 1e-8 unless Config says.
	Adam
)

var optimizerNames = [...]string{SGD: "sgd", Momentum: "momentum", Adam: "adam"}

// String returns the optimizer's name, as ParseOptimizer accepts it.
func (o Optimizer) String() string {
	if int(o) < len(optimizerNames) {
		return optimizerNames[o]
	}
	return fmt.Sprintf("Optimizer(%d)", uint8(o))
}

// ParseOptimizer returns the optimizer named s ("sgd", "momentum" or
// "adam", in any case).
func ParseOptimizer(s string) (Optimizer, error) {
	for i, n := range optimizerNames {
		if strings.EqualFold(s, n) {
			return Optimizer(i), nil
		}
	}
	return 0, fmt.Errorf("unknown optimizer %q (want one of sgd, momentum, adam)", s)
}

// optimizer applies one update rule to a set of parameters, with its state
// tensors allocated once.
type optimizer struct {
	b                   backend.Backend
	kind                Optimizer
	lr, mu, b1, b2, eps float64
	step                int
	params, grads       []backend.Tensor
	s1, s2              []backend.Tensor // momentum velocity / Adam m; Adam v
}

func newOptimizer(a *allocator, b backend.Backend, cfg *Config, params, grads []backend.Tensor) *optimizer {
	o := &optimizer{b: b, kind: cfg.Optimizer, lr: cfg.LR, mu: cfg.Momentum,
		b1: cfg.Beta1, b2: cfg.Beta2, eps: cfg.Eps, params: params, grads: grads}
	if o.kind == Momentum || o.kind == Adam {
		for _, p := range params {
			o.s1 = append(o.s1, a.new(p.Rows(), p.Cols(), backend.Float))
		}
	}
	if o.kind == Adam {
		for _, p := range params {
			o.s2 = append(o.s2, a.new(p.Rows(), p.Cols(), backend.Float))
		}
	}
	return o
}

// update records one update of every parameter.
func (o *optimizer) update() {
	o.step++
	for i, p := range o.params {
		switch o.kind {
		case SGD:
			o.b.SGD(p, o.grads[i], o.lr)
		case Momentum:
			o.b.Momentum(p, o.grads[i], o.s1[i], o.lr, o.mu)
		case Adam:
			o.b.Adam(p, o.grads[i], o.s1[i], o.s2[i], o.lr, o.b1, o.b2, o.eps, o.step)
		default:
			panic(fmt.Sprintf("nn: unknown optimizer %v", o.kind))
		}
	}
}
