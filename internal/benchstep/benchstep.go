// Package benchstep is the training step that gputrain's benchmarks time: a
// dense MLP trained with backend operations only (no package nn), with its
// data set resident on the device and each minibatch gathered there from an
// index tensor. A step is a full forward pass, loss, backward pass and
// parameter update; it neither allocates nor reads back, so the GPU backend
// records many steps into one command buffer and Run syncs once.
//
// Keeping the step here, rather than timing nn.Train, means a benchmark times
// exactly the steps it asks for, without per-epoch logging or shuffling, and
// that the same step serves the CLI (gputrain bench) and the go test
// benchmarks of packages gpu and cpuref.
package benchstep

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/gputrain/gputrain/backend"
)

// Spec describes the network and its update rule.
type Spec struct {
	// Sizes are the layer widths: inputs, hidden layers..., outputs.
	Sizes []int
	// Activation is the hidden layers' nonlinearity; the last layer is
	// linear (logits).
	Activation backend.Activation
	// Loss is BinaryCrossEntropy (one output) or SoftmaxCrossEntropy.
	Loss backend.Loss
	// Optimizer is "sgd", "momentum" (mu 0.9) or "adam" (β1 0.9, β2
	// 0.999, eps 1e-8).
	Optimizer string
	// LR is the learning rate.
	LR float64
}

// String describes the spec, e.g. "784-128-64-10 sigmoid softmax-ce sgd".
func (s Spec) String() string {
	parts := make([]string, len(s.Sizes))
	for i, n := range s.Sizes {
		parts[i] = fmt.Sprint(n)
	}
	return fmt.Sprintf("%s %s %s %s lr=%g", strings.Join(parts, "-"), s.Activation, s.Loss, s.Optimizer, s.LR)
}

// Validate checks the spec.
func (s Spec) Validate() error {
	if len(s.Sizes) < 2 {
		return errors.New("benchstep: need at least an input and an output size")
	}
	for _, n := range s.Sizes {
		if n < 1 {
			return fmt.Errorf("benchstep: layer size %d", n)
		}
	}
	switch s.Loss {
	case backend.BinaryCrossEntropy:
		if s.Sizes[len(s.Sizes)-1] != 1 {
			return errors.New("benchstep: binary cross-entropy needs one output")
		}
	case backend.SoftmaxCrossEntropy:
	default:
		return fmt.Errorf("benchstep: loss %s not supported", s.Loss)
	}
	if s.Optimizer != "sgd" && s.Optimizer != "momentum" && s.Optimizer != "adam" {
		return fmt.Errorf("benchstep: optimizer %q (want sgd, momentum or adam)", s.Optimizer)
	}
	return nil
}

// FLOPsPerSample counts the multiply-adds of one training step per sample,
// from the layer shapes alone: 2·in·out per layer forward, 4·in·out per
// layer backward (dW and dX), except that the first layer computes no dX
// (2·in·out). Elementwise work (activations, loss, update) is not counted.
func (s Spec) FLOPsPerSample() float64 {
	f := 0.0
	for i := 0; i+1 < len(s.Sizes); i++ {
		io := float64(s.Sizes[i]) * float64(s.Sizes[i+1])
		f += 2 * io // forward
		if i == 0 {
			f += 2 * io // dW only
		} else {
			f += 4 * io // dW and dX
		}
	}
	return f
}

// Data is a data set to upload: one row per sample.
type Data struct {
	Rows, Cols int
	// Features holds Rows·Cols values, or nil when Pixels is set.
	Features []float64
	// Pixels holds Rows·Cols bytes, scaled by 1/255 as they are gathered.
	Pixels []byte
	// Labels holds Rows targets: 0/1 for binary cross-entropy, a class
	// index for softmax cross-entropy.
	Labels []float64
}

// Bytes is the host size of the data set's samples.
func (d *Data) Bytes() int {
	if d.Pixels != nil {
		return len(d.Pixels)
	}
	return 8 * len(d.Features)
}

// windows is how many distinct minibatches the index tensor holds; step s
// uses window s mod windows.
const windows = 16

// MLP is a network, its optimizer state, its resident data set and the
// buffers of one step, all allocated once by New. The parameters live in
// one tensor (w and bs are slices of it, laid out by backend.Pack), their
// gradients in another of the same layout, and the optimizer's state in one
// or two more, so that one operation updates every parameter.
type MLP struct {
	b     backend.Backend
	spec  Spec
	batch int
	full  bool // full batch: the input was gathered once, in New

	x, y, idx    backend.Tensor
	params       backend.Tensor   // every weight and bias
	grads        backend.Tensor   // their gradients, in the same layout
	s1, s2       backend.Tensor   // momentum's velocity or Adam's m; Adam's v
	w, bs        []backend.Tensor // slices of params
	dw, db       []backend.Tensor // slices of grads
	acts, deltas []backend.Tensor // layer inputs/outputs; gradients w.r.t. the outputs
	target, loss backend.Tensor
	count        backend.Tensor
	scale        float64

	owned []backend.Tensor
	bytes uint64
	step  int
}

// New uploads d and allocates a network for spec with minibatches of batch
// rows. When batch ≥ d.Rows the step is full-batch gradient descent: every
// row, in order, gathered once here, as the classic tutorial does it.
// Otherwise the index tensor holds 16 minibatches of rows drawn with
// replacement (from seed), which steps cycle through. Weights are drawn
// Xavier-uniform with Uniform(seed), biases are zero.
func New(b backend.Backend, spec Spec, d *Data, batch int, seed uint64) (m *MLP, err error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if d.Cols != spec.Sizes[0] {
		return nil, fmt.Errorf("benchstep: data has %d columns, network %d inputs", d.Cols, spec.Sizes[0])
	}
	if batch < 1 {
		return nil, fmt.Errorf("benchstep: batch %d", batch)
	}
	m = &MLP{b: b, spec: spec, batch: batch, scale: 1}
	defer func() {
		if err != nil {
			m.Free()
			m = nil
		}
	}()
	if batch >= d.Rows {
		m.batch, m.full = d.Rows, true
	}
	prec := uint64(8)
	if b.Info().Precision == "float32" {
		prec = 4
	}
	alloc := func(r, c int, dt backend.DType) (backend.Tensor, error) {
		t, err := b.New(r, c, dt)
		if err != nil {
			return nil, err
		}
		m.owned = append(m.owned, t)
		switch dt {
		case backend.Float:
			m.bytes += uint64(r*c) * prec
		case backend.Byte:
			m.bytes += uint64(r * c)
		default:
			m.bytes += uint64(r*c) * 4
		}
		return t, nil
	}
	f := func(r, c int) backend.Tensor {
		if err != nil {
			return nil
		}
		var t backend.Tensor
		t, err = alloc(r, c, backend.Float)
		return t
	}
	// Data first: the largest tensors, so a device limit shows at once.
	if d.Pixels != nil {
		if m.x, err = alloc(d.Rows, d.Cols, backend.Byte); err != nil {
			return nil, err
		}
		if err = b.WriteBytes(m.x, d.Pixels); err != nil {
			return nil, err
		}
		m.scale = 1.0 / 255
	} else {
		if m.x = f(d.Rows, d.Cols); err != nil {
			return nil, err
		}
		if err = b.WriteFloats(m.x, d.Features); err != nil {
			return nil, err
		}
	}
	if m.y = f(d.Rows, 1); err != nil {
		return nil, err
	}
	if err = b.WriteFloats(m.y, d.Labels); err != nil {
		return nil, err
	}
	var order []uint32
	if m.full {
		order = make([]uint32, d.Rows)
		for i := range order {
			order[i] = uint32(i)
		}
	} else {
		rng := NewRNG(seed ^ 0x5eed)
		order = make([]uint32, windows*m.batch)
		for i := range order {
			order[i] = uint32(rng.Uint64() % uint64(d.Rows))
		}
	}
	if m.idx, err = alloc(len(order), 1, backend.Index); err != nil {
		return nil, err
	}
	if err = b.WriteIndices(m.idx, order); err != nil {
		return nil, err
	}
	sizes := spec.Sizes
	m.acts = append(m.acts, f(m.batch, sizes[0]))
	m.target = f(m.batch, 1)
	m.loss = f(1, 1)
	m.count = f(1, 1)
	var counts []int
	for i := 0; i+1 < len(sizes); i++ {
		counts = append(counts, sizes[i]*sizes[i+1], sizes[i+1])
		m.acts = append(m.acts, f(m.batch, sizes[i+1]))
		m.deltas = append(m.deltas, f(m.batch, sizes[i+1]))
	}
	offsets, total := backend.Pack(counts...)
	m.params, m.grads = f(total, 1), f(total, 1)
	switch spec.Optimizer {
	case "momentum":
		m.s1 = f(total, 1)
	case "adam":
		m.s1, m.s2 = f(total, 1), f(total, 1)
	}
	if err != nil {
		return nil, err
	}
	rng := NewRNG(seed)
	for i := 0; i+1 < len(sizes); i++ {
		in, out := sizes[i], sizes[i+1]
		m.w = append(m.w, b.Slice(m.params, offsets[2*i], in, out))
		m.bs = append(m.bs, b.Slice(m.params, offsets[2*i+1], 1, out))
		m.dw = append(m.dw, b.Slice(m.grads, offsets[2*i], in, out))
		m.db = append(m.db, b.Slice(m.grads, offsets[2*i+1], 1, out))
		if err = b.WriteFloats(m.w[i], Xavier(rng, in, out)); err != nil {
			return nil, err
		}
	}
	if m.full {
		b.Gather(m.acts[0], m.x, m.idx, 0, m.scale)
		b.Gather(m.target, m.y, m.idx, 0, 1)
	}
	return m, b.Sync()
}

// Batch is the number of rows per step (d.Rows for full batch).
func (m *MLP) Batch() int { return m.batch }

// FullBatch reports whether every step trains on the whole data set.
func (m *MLP) FullBatch() bool { return m.full }

// Bytes is the size of every tensor New allocated, at the backend's
// precision (float32 on the GPU, float64 on the CPU reference).
func (m *MLP) Bytes() uint64 { return m.bytes }

// FLOPsPerStep is Spec.FLOPsPerSample times the batch.
func (m *MLP) FLOPsPerStep() float64 { return m.spec.FLOPsPerSample() * float64(m.batch) }

// Step records one training step: forward (the first layer gathering the
// next minibatch, unless full batch), loss with its gradient and the
// correct count, backward (each layer's weight and bias gradients in one
// operation), and one update of every parameter: on the GPU, one dispatch
// per layer forward, one for the loss, one per layer for the gradients and
// one per layer but the first for the input gradients, and one for the
// update (10 for 784-128-64-10, whatever the optimizer). The loss sum and
// the correct count accumulate on the device.
func (m *MLP) Step() {
	b := m.b
	off := (m.step % windows) * m.batch
	m.step++
	L := len(m.w)
	for i := 0; i < L; i++ {
		act := m.spec.Activation
		if i == L-1 {
			act = backend.Identity
		}
		if i == 0 && !m.full {
			b.GatherMatMulBiasActivate(m.acts[0], m.x, m.idx, off, m.scale, m.acts[1], m.w[0], m.bs[0], act)
			continue
		}
		b.MatMulBiasActivate(m.acts[i+1], m.acts[i], m.w[i], m.bs[i], act)
	}
	if m.full {
		b.LossGradCount(m.loss, m.count, m.deltas[L-1], m.acts[L], m.target, nil, 0, m.spec.Loss)
	} else {
		b.LossGradCount(m.loss, m.count, m.deltas[L-1], m.acts[L], m.y, m.idx, off, m.spec.Loss)
	}
	for i := L - 1; i >= 0; i-- {
		b.MatMulColumnSum(m.dw[i], m.db[i], m.acts[i], m.deltas[i])
		if i > 0 {
			b.MatMulActivationGrad(m.deltas[i-1], m.deltas[i], m.w[i], m.acts[i], true, m.spec.Activation)
		}
	}
	lr := m.spec.LR
	switch m.spec.Optimizer {
	case "sgd":
		b.SGD(m.params, m.grads, lr)
	case "momentum":
		b.Momentum(m.params, m.grads, m.s1, lr, 0.9)
	case "adam":
		b.Adam(m.params, m.grads, m.s1, m.s2, lr, 0.9, 0.999, 1e-8, m.step)
	}
}

// Run records steps steps and syncs once.
func (m *MLP) Run(steps int) error {
	for range steps {
		m.Step()
	}
	return m.b.Sync()
}

// MaxSyncSeconds bounds the work queued between two syncs. wgpu's blocking
// poll (binding v0.23.0) gives up after 5 seconds (gfx-rs/wgpu#4589) and the
// process then crashes on the still-running work, so a run that would queue
// more than this on a slow adapter is split into several syncs.
const MaxSyncSeconds = 1.0

// PerSync is how many steps of stepSeconds each fit under MaxSyncSeconds.
func PerSync(stepSeconds float64) int {
	return max(1, int(MaxSyncSeconds/max(stepSeconds, 1e-9)))
}

// RunChunked records steps steps, syncing after every perSync of them and
// at the end; it returns the number of syncs.
func (m *MLP) RunChunked(steps, perSync int) (int, error) {
	syncs := 0
	for steps > 0 {
		n := min(steps, max(perSync, 1))
		if err := m.Run(n); err != nil {
			return syncs, err
		}
		steps -= n
		syncs++
	}
	return syncs, nil
}

// Steps is the number of steps recorded so far.
func (m *MLP) Steps() int { return m.step }

// Final runs one more step and returns its mean loss and the fraction of
// its rows predicted right (by the outputs before that step's update). It
// reads back, so it is for the end of a run, not for timing.
func (m *MLP) Final() (loss, accuracy float64, err error) {
	m.b.Fill(m.loss, 0)
	m.b.Fill(m.count, 0)
	m.Step()
	l, err := m.b.ReadFloats(m.loss)
	if err != nil {
		return 0, 0, err
	}
	c, err := m.b.ReadFloats(m.count)
	if err != nil {
		return 0, 0, err
	}
	return l[0] / float64(m.batch), c[0] / float64(m.batch), nil
}

// Weights reads back the weight matrices (in×out, row-major).
func (m *MLP) Weights() ([][]float64, error) {
	var out [][]float64
	for _, w := range m.w {
		v, err := m.b.ReadFloats(w)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Free releases every tensor New allocated.
func (m *MLP) Free() {
	for _, t := range m.owned {
		m.b.Free(t)
	}
	m.owned = nil
}

// RNG is splitmix64: tiny, and easy to reproduce exactly in Python
// (bench/numpy_mlp.py draws the same weights and data).
type RNG struct{ s uint64 }

// NewRNG returns a generator seeded with seed.
func NewRNG(seed uint64) *RNG { return &RNG{seed} }

// Uint64 returns the next 64 random bits.
func (r *RNG) Uint64() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// Float64 returns a uniform number in [0, 1) with 53 random bits.
func (r *RNG) Float64() float64 { return float64(r.Uint64()>>11) * 0x1p-53 }

// Xavier returns in·out weights drawn uniformly from ±sqrt(6/(in+out)),
// row-major.
func Xavier(r *RNG, in, out int) []float64 {
	lim := math.Sqrt(6 / float64(in+out))
	w := make([]float64, in*out)
	for i := range w {
		w[i] = (2*r.Float64() - 1) * lim
	}
	return w
}
