package nn

import (
	"fmt"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/internal/enum"
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
	k := m.models()
	w.x = a.newArray(k, rows, m.Spec.Inputs, backend.Float)
	w.t = a.newArray(k, rows, labelCols(m.Spec), backend.Float)
	n := len(m.layers)
	w.ys = make([]backend.Tensor, n)
	w.ds = make([]backend.Tensor, n)
	for i, l := range m.layers {
		w.ys[i] = a.newArray(k, rows, l.out, backend.Float)
		if backward || i == n-1 {
			w.ds[i] = a.newArray(k, rows, l.out, backend.Float)
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
		m.b.MatMulBiasActivate(w.ys[i], in, l.w, l.bias, l.act, backend.Dropout{})
		in = w.ys[i]
	}
}

// forwardGather is forward on the rows of x that idx lists from offset off,
// scaled by scale: the first layer gathers them into w.x in its product
// (GatherMatMulBiasActivate). drop is the training step's dropout (the
// zero dropout for evaluation), applied to the hidden layers' outputs in
// their products.
func (m *Model) forwardGather(w *workspace, x, idx backend.Tensor, off int, scale float64, drop dropout) {
	l := m.layers[0]
	m.b.GatherMatMulBiasActivate(w.x, x, idx, off, scale, w.ys[0], l.w, l.bias, l.act, m.dropAt(drop, 0))
	for i := 1; i < len(m.layers); i++ {
		l := m.layers[i]
		m.b.MatMulBiasActivate(w.ys[i], w.ys[i-1], l.w, l.bias, l.act, m.dropAt(drop, i))
	}
}

// dropout is a training step's dropout (Config.Dropout): the probability,
// the generator's seed and the step's number (set by trainStep).
type dropout struct {
	p    float64
	seed uint64
	step int
}

// dropAt is the dropout of layer i's output: d's with Layer i for a hidden
// layer, none for the output layer or when d.p is 0.
func (m *Model) dropAt(d dropout, i int) backend.Dropout {
	if d.p == 0 || i >= len(m.layers)-1 {
		return backend.Dropout{}
	}
	return backend.Dropout{P: d.p, Seed: d.seed, Step: d.step, Layer: i}
}

// out returns the logits (or raw outputs) of the last forward pass.
func (m *Model) out(w *workspace) backend.Tensor { return w.ys[len(w.ys)-1] }

// paramLayout returns where the weights and the bias of each layer (w0, b0,
// w1, b1, …) lie in the one tensor that holds a model's parameters, and its
// size in elements (backend.Pack). Gradients and optimizer state are laid
// out alike.
func (m *Model) paramLayout() (offsets []int, total int) {
	sz := m.Spec.Sizes()
	counts := make([]int, 0, 2*len(sz))
	for i := 0; i+1 < len(sz); i++ {
		counts = append(counts, sz[i]*sz[i+1], sz[i+1])
	}
	return backend.Pack(counts...)
}

// grads holds the parameter gradients: one tensor laid out as the model's
// parameters, and per layer slices of it.
type grads struct {
	all  backend.Tensor
	w, b []backend.Tensor // in×out and 1×out per layer
}

func (m *Model) newGrads(a *allocator) *grads {
	offsets, total := m.paramLayout()
	g := &grads{all: a.newArray(m.models(), total, 1, backend.Float)}
	if g.all == nil {
		return g // a.err says why
	}
	for i, l := range m.layers {
		g.w = append(g.w, m.b.Slice(g.all, offsets[2*i], l.in, l.out))
		g.b = append(g.b, m.b.Slice(g.all, offsets[2*i+1], 1, l.out))
	}
	return g
}

// backward records the backward pass: w.ds[last] must hold dLoss/dLogits;
// it fills g with the parameter gradients (each layer's weights and bias in
// one MatMulColumnSum), propagating through w.ds and through the dropout
// drop that the forward pass applied.
func (m *Model) backward(w *workspace, g *grads, drop dropout) {
	for i := len(m.layers) - 1; i >= 0; i-- {
		l := m.layers[i]
		in := w.x
		if i > 0 {
			in = w.ys[i-1]
		}
		dY := w.ds[i]
		m.b.MatMulColumnSum(g.w[i], g.b[i], in, dY)
		if i > 0 {
			// dY·Wᵀ through the previous layer's activation, fused.
			m.b.MatMulActivationGrad(w.ds[i-1], dY, l.w, w.ys[i-1], true, m.layers[i-1].act, m.dropAt(drop, i-1))
		}
	}
}

// trainStep records one training step on the rows of the resident set x
// (targets t) that idx lists from offset off, w.rows of them: the forward
// pass with the gather in the first layer's product, the loss, its
// gradient and (unless countT is nil) the correct count in one operation,
// accumulated into lossT and countT (the loss weighted by classWeights
// unless nil), the backward pass and one update of every parameter, with
// the dropout drop at the optimizer's step count (the steps before this
// one) on the hidden layers. On the GPU that is 3L+1 dispatches for L
// layers (10 for 784-128-64-10), whatever the optimizer and the dropout,
// and nothing allocated.
func (m *Model) trainStep(w *workspace, g *grads, opt *optimizer, x, t, idx backend.Tensor, off int, scale float64, lossT, countT, classWeights backend.Tensor, drop dropout) {
	drop.step = opt.step
	m.forwardGather(w, x, idx, off, scale, drop)
	m.b.LossGradCount(lossT, countT, w.ds[len(w.ds)-1], m.out(w), t, idx, off, m.Spec.Head.Loss(), classWeights)
	m.backward(w, g, drop)
	opt.update()
}

// Optimizer names an update rule.
type Optimizer uint8

const (
	// SGD is w -= lr·g.
	SGD Optimizer = iota
	// Momentum is v = mu·v + g; w -= lr·v (mu 0.9 unless Config.Momentum says).
	Momentum
	// Adam is Adam with β1 0.9, β2 0.999 and eps 1e-8 unless Config says;
	// Config.WeightDecay is an L2 term folded into the gradient (PyTorch's
	// Adam weight_decay).
	Adam
	// AdamW is Adam with decoupled weight decay (Loshchilov and Hutter;
	// PyTorch's AdamW): Config.WeightDecay shrinks the weights by
	// lr·wd·w each step beside the Adam step, not through the moments.
	AdamW
)

var optimizerNames = enum.Names[Optimizer]{SGD: "sgd", Momentum: "momentum", Adam: "adam", AdamW: "adamw"}

// String returns the optimizer's name, as ParseOptimizer accepts it.
func (o Optimizer) String() string { return optimizerNames.String(o, "Optimizer") }

// ParseOptimizer returns the optimizer named s ("sgd", "momentum", "adam"
// or "adamw", in any case).
func ParseOptimizer(s string) (Optimizer, error) {
	if o, ok := optimizerNames.Parse(s); ok {
		return o, nil
	}
	return 0, fmt.Errorf("unknown optimizer %q (want one of %s)", s, optimizerNames.List())
}

// optimizer applies one update rule to every parameter at once: the
// parameters, their gradients and its state are each one tensor of the same
// layout (see paramLayout), allocated once.
type optimizer struct {
	b             backend.Backend
	kind          Optimizer
	step          int
	params, grads backend.Tensor
	s1, s2        backend.Tensor // momentum velocity / Adam m; Adam v
	// hp is the hyperparameter table, one row per model (see hpRow);
	// rows holds it on the host.
	hp   backend.Tensor
	rows []float64
	// decay is the weight-decay mask, laid out as the parameters and
	// shared by every model: 1 on the weights, 0 on the biases and the
	// padding between them (biases are not decayed, as in PyTorch's common
	// recipes). nil until a model's weight decay is set (useDecay).
	decay backend.Tensor
	// clip is the gradient-clipping threshold (0: none); with one, each
	// update is preceded by GradNormSq.
	clip float64
}

// newOptimizer allocates the state of cfg's update rule for params (of
// params.Models() models; or takes state's, a model's own) and its
// hyperparameter table, every model's row
// cfg's; setHP changes a model's and writeHP writes the table.
func newOptimizer(a *allocator, b backend.Backend, cfg *Config, params, grads backend.Tensor, state *optTensors) *optimizer {
	n := params.Models()
	o := &optimizer{b: b, kind: cfg.Optimizer, params: params, grads: grads, clip: cfg.ClipNorm}
	if state != nil {
		o.s1, o.s2 = state.s1, state.s2
	} else if o.kind != SGD {
		o.s1 = a.newArray(n, params.Rows(), params.Cols(), backend.Float)
	}
	if state == nil && (o.kind == Adam || o.kind == AdamW) {
		o.s2 = a.newArray(n, params.Rows(), params.Cols(), backend.Float)
	}
	row := o.hpRow(cfg.LR, cfg.WeightDecay, cfg.Momentum, cfg.Beta1, cfg.Beta2, cfg.Eps)
	o.hp = a.newArray(n, 1, len(row), backend.Float)
	for range n {
		o.rows = append(o.rows, row...)
	}
	return o
}

// hpRow is one model's row of the optimizer's hyperparameter table: wd is
// the L2 decay, or AdamW's decoupled one; the clipping threshold is o's.
func (o *optimizer) hpRow(lr, wd, mu, b1, b2, eps float64) []float64 {
	var row []float64
	switch o.kind {
	case Momentum:
		row = backend.WithWeightDecay(backend.MomentumHP(lr, mu), wd)
	case Adam:
		row = backend.WithWeightDecay(backend.AdamHP(lr, b1, b2, eps), wd)
	case AdamW:
		row = backend.AdamWHP(lr, b1, b2, eps, wd)
	default:
		row = backend.WithWeightDecay(backend.SGDHP(lr), wd)
	}
	return backend.WithClipNorm(row, o.clip)
}

// useDecay allocates (with a) and writes the weight-decay mask of m's
// parameter layout, once: see optimizer.decay.
func (o *optimizer) useDecay(a *allocator, m *Model) error {
	if o.decay != nil {
		return nil
	}
	offsets, total := m.paramLayout()
	t := a.new(total, 1, backend.Float)
	if a.err != nil {
		return fmt.Errorf("nn: allocating the weight-decay mask: %w", a.err)
	}
	mask := make([]float64, total)
	for i, l := range m.layers {
		for j := offsets[2*i]; j < offsets[2*i]+l.in*l.out; j++ {
			mask[j] = 1
		}
	}
	if err := o.b.WriteFloats(t, mask); err != nil {
		return fmt.Errorf("nn: writing the weight-decay mask: %w", err)
	}
	o.decay = t
	return nil
}

// setHP sets model k's row of the table on the host (writeHP uploads it).
func (o *optimizer) setHP(k int, row []float64) { copy(o.rows[k*len(row):], row) }

// setLR sets model k's learning rate on the host (writeHP uploads it): 0
// freezes the model's parameters.
func (o *optimizer) setLR(k int, lr float64) {
	o.rows[k*(len(o.rows)/o.params.Models())+backend.HPLR] = lr
}

// writeHP uploads the hyperparameter table.
func (o *optimizer) writeHP() error { return o.b.WriteFloats(o.hp, o.rows) }

// update records one update of every parameter: one operation, and with
// gradient clipping one more before it (GradNormSq, which writes the
// gradient's squared norm into the table the update reads).
func (o *optimizer) update() {
	o.step++
	if o.clip != 0 {
		o.b.GradNormSq(o.hp, o.grads)
	}
	switch o.kind {
	case SGD:
		o.b.SGD(o.params, o.grads, o.hp, o.decay)
	case Momentum:
		o.b.Momentum(o.params, o.grads, o.s1, o.hp, o.decay)
	case Adam, AdamW:
		o.b.Adam(o.params, o.grads, o.s1, o.s2, o.hp, o.decay, o.step)
	default:
		panic(fmt.Sprintf("nn: unknown optimizer %v", o.kind))
	}
}
