package nn

import (
	"fmt"

	"github.com/gputrain/gputrain/backend"
)

// Trainer is the training step of a model on a resident data set: the set
// uploaded once, the buffers of one step (activations, gradients, the
// optimizer's state) allocated once, and an order of row indices on the
// device that the steps walk a minibatch at a time, gathering each one on
// the device. Train's loop runs it, and so do gputrain bench and the go
// test benchmarks, so that they time the step that trains models.
//
// A step records its work and reads nothing back: on the GPU 3L+1
// dispatches for L layers (10 for 784-128-64-10) whatever the optimizer,
// and no allocation once the backend has seen the step. The loss and the
// correct count of its rows (measured before its update) accumulate on the
// device until ResetSums. Like the model, a Trainer is not safe for
// concurrent use.
type Trainer struct {
	m        *Model
	a        *allocator // every tensor below, freed by Free
	x, t     backend.Tensor
	scale    float64    // what Gather applies to x
	ws, last *workspace // a whole minibatch; the order's last, shorter one
	g        *grads
	opt      *optimizer
	order    backend.Tensor // row indices into x and t
	rows     int            // their number
	pos      int            // where the next step's minibatch starts in order
	loss     backend.Tensor // the loss sum
	count    backend.Tensor // the correct count; nil for a RegressionHead
	weights  backend.Tensor // the class weights (Config.ClassWeights); nil for none
	// first, when Train asks for it, takes the loss of the trainer's first
	// step instead of loss (see meters).
	first backend.Tensor
	// drop is the steps' dropout: Config.Dropout keyed by Config.Seed (its
	// step is each step's own, see trainStep).
	drop dropout
}

// NewTrainer uploads set (the training rows; labels required) and
// allocates the buffers of a training step of m with cfg's Batch and
// update rule (Optimizer, LR, WeightDecay, Momentum, Beta1, Beta2, Eps, with Config's
// defaults), its Dropout keyed by its Seed (the other fields are not
// used), and an order of orderRows row
// indices (0 means set.Rows), to be written with SetOrder before the first
// step. A Batch of 0 or more than set.Rows trains on set.Rows rows a step.
// The optimizer's state starts at zero and its step count at m.Info.Step
// (Adam's bias correction continues over a model's life); the trainer does
// not update m.Info. Free releases what NewTrainer allocated.
func NewTrainer(m *Model, set *Set, cfg Config, orderRows int) (*Trainer, error) {
	m.live()
	cfg, err := cfg.stepDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkSet(set, m.Spec, true); err != nil {
		return nil, err
	}
	if err := m.Scaling.validate(m.Spec); err != nil {
		return nil, err
	}
	if orderRows < 0 {
		return nil, fmt.Errorf("nn: an order of %d rows", orderRows)
	}
	return newTrainer(m, set, &cfg, orderRows, false, nil)
}

// newTrainer is NewTrainer on a checked set and configuration; withFirst
// allocates the first step's own loss tensor (Trainer.first); state, if not
// nil, is the optimizer's state the model keeps (Train's), else the trainer
// allocates one.
func newTrainer(m *Model, set *Set, cfg *Config, orderRows int, withFirst bool, state *optTensors) (tr *Trainer, err error) {
	batch := cfg.Batch
	if batch == 0 || batch > set.Rows {
		batch = set.Rows
	}
	if orderRows == 0 {
		orderRows = set.Rows
	}
	if orderRows < batch {
		return nil, fmt.Errorf("nn: an order of %d rows for minibatches of %d", orderRows, batch)
	}
	if cfg.ClassWeights != nil {
		if err := checkClassWeights(cfg.ClassWeights, m.Spec); err != nil {
			return nil, err
		}
	}
	b := m.b
	tr = &Trainer{m: m, a: newAllocator(b), rows: orderRows, drop: dropout{p: cfg.Dropout, seed: cfg.Seed}}
	defer func() {
		if err != nil {
			tr.Free()
			tr = nil
		}
	}()
	a := tr.a
	if tr.x, tr.t, tr.scale, err = m.upload(a, set); err != nil {
		return nil, err
	}
	tr.ws = m.newWorkspace(a, batch, true)
	tr.g = m.newGrads(a)
	tr.opt = newOptimizer(a, b, cfg, m.params, tr.g.all, state)
	n := m.models()
	tr.order = a.newArray(n, orderRows, 1, backend.Index)
	tr.loss = a.newArray(n, 1, 1, backend.Float)
	if withFirst {
		// New tensors are zero.
		tr.first = a.newArray(n, 1, 1, backend.Float)
	}
	if m.Spec.Head.Classifies() {
		tr.count = a.newArray(n, 1, 1, backend.Float)
	}
	if a.err != nil {
		return nil, fmt.Errorf("nn: allocating training buffers for %v, batch %d: %w", m.Spec, batch, a.err)
	}
	// (tr, not nil, goes back with an error: the deferred Free frees it.)
	if cfg.WeightDecay != 0 {
		if err = tr.opt.useDecay(a, m); err != nil {
			return tr, err
		}
	}
	if cfg.ClassWeights != nil {
		tr.weights = a.new(1, len(cfg.ClassWeights), backend.Float)
		if a.err != nil {
			return tr, fmt.Errorf("nn: allocating the class weights: %w", a.err)
		}
		if err = b.WriteFloats(tr.weights, cfg.ClassWeights); err != nil {
			return tr, fmt.Errorf("nn: writing the class weights: %w", err)
		}
	}
	if err := tr.opt.writeHP(); err != nil {
		return nil, fmt.Errorf("nn: writing the optimizer's hyperparameters: %w", err)
	}
	steps := (orderRows + batch - 1) / batch
	tr.last = tr.ws.view(b, orderRows-(steps-1)*batch)
	tr.opt.step = m.Info.Step
	return tr, nil
}

// Batch is the number of rows of a whole minibatch.
func (tr *Trainer) Batch() int { return tr.ws.rows }

// StepsPerOrder is the number of steps that walk the whole order once, the
// last one on the rows left (fewer than Batch when Batch does not divide
// the order's length).
func (tr *Trainer) StepsPerOrder() int { return (tr.rows + tr.ws.rows - 1) / tr.ws.rows }

// NewArrayTrainer is NewTrainer for the members of a: one step trains
// every member on its own minibatch, in the dispatches of one model's step,
// with cfg's hyperparameters for every member. It is the step TrainArray
// runs, for the benchmarks.
func NewArrayTrainer(a *Array, set *Set, cfg Config, orderRows int) (*Trainer, error) {
	a.m.Scaling = a.Scaling
	return NewTrainer(a.m, set, cfg, orderRows)
}

// SetOrder writes the row indices the steps walk, one minibatch of Batch
// of them a step from the first, and starts the next step at the first.
// order must have the length NewTrainer was given (one order shared by the
// members of an array), or that times the members (member k's order at k
// times the length), and index rows of the set.
func (tr *Trainer) SetOrder(order []uint32) error {
	n := tr.m.models()
	if n > 1 && len(order) == tr.rows {
		all := make([]uint32, 0, n*tr.rows)
		for range n {
			all = append(all, order...)
		}
		order = all
	}
	if len(order) != tr.rows*n {
		return fmt.Errorf("nn: an order of %d rows for a trainer of %d", len(order), tr.rows)
	}
	tr.pos = 0
	return tr.m.b.WriteIndices(tr.order, order)
}

// Step records one training step on the next minibatch of the order: the
// forward pass with the gather in the first layer's product, the loss, its
// gradient and the correct count in one operation (added to the sums), the
// backward pass and one update of every parameter. After the order's last
// minibatch the next step starts again at its first. It returns the number
// of rows the step trained on.
func (tr *Trainer) Step() int { return tr.step(tr.loss) }

// step is Step with its loss added to lossT.
func (tr *Trainer) step(lossT backend.Tensor) int {
	w := tr.ws
	if tr.pos+w.rows > tr.rows {
		w = tr.last
	}
	tr.m.trainStep(w, tr.g, tr.opt, tr.x, tr.t, tr.order, tr.pos, tr.scale, lossT, tr.count, tr.weights, tr.drop)
	tr.pos += w.rows
	if tr.pos >= tr.rows {
		tr.pos = 0
	}
	return w.rows
}

// ResetSums records setting the loss sum and the correct count to zero.
func (tr *Trainer) ResetSums() {
	tr.m.b.Fill(tr.loss, 0)
	if tr.count != nil {
		tr.m.b.Fill(tr.count, 0)
	}
}

// Sums reads back the loss sum and the correct count (0 for a
// RegressionHead) of the steps since ResetSums, in one readback: divided
// by the rows of those steps, the mean loss and the accuracy.
func (tr *Trainer) Sums() (loss, count float64, err error) {
	loss, count, _, err = tr.readSums()
	if err != nil {
		return 0, 0, fmt.Errorf("nn: reading the loss: %w", err)
	}
	return loss, count, nil
}

// readSums reads the sums and the extra 1×1 tensors in one readback.
func (tr *Trainer) readSums(extra ...backend.Tensor) (loss, count float64, ex []float64, err error) {
	return readSums(tr.m.b, tr.loss, tr.count, tr.count != nil, extra...)
}

// Bytes is the device memory of the trainer's tensors and the model's
// parameters, at the backend's precision (float32 on the GPU, float64 on
// the CPU reference).
func (tr *Trainer) Bytes() uint64 {
	prec := uint64(8)
	if tr.m.b.Info().Precision == "float32" {
		prec = 4
	}
	var n uint64
	for _, t := range append([]backend.Tensor{tr.m.params}, tr.a.ts...) {
		size := uint64(t.Rows()) * uint64(t.Cols())
		switch t.DType() {
		case backend.Float:
			n += size * prec
		case backend.Byte:
			n += size
		default:
			n += size * 4
		}
	}
	return n
}

// Free releases what NewTrainer allocated (not the model); the trainer is
// unusable afterwards. Free may be called more than once.
func (tr *Trainer) Free() { tr.a.free() }
