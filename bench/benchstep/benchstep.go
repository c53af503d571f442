// Package benchstep is the workload that gputrain's benchmarks time: nn's
// training step (nn.Trainer, the step nn.Train runs) of a dense MLP whose
// data set is resident on the device, each minibatch gathered there from an
// index tensor. A step is a full forward pass, loss, backward pass and
// parameter update; it neither allocates nor reads back, so the GPU backend
// records many steps into one command buffer and Run syncs once.
//
// Timing the trainer's steps, rather than nn.Train, means a benchmark times
// exactly the steps it asks for, without per-epoch logging or shuffling;
// the same workload serves the CLI (gputrain bench), the go test benchmarks
// of packages gpu and cpuref (through the test-only package
// bench/benchstep/benchtest) and, drawn alike, the numpy and PyTorch
// peers (bench/numpy_mlp.py, bench/torch_mlp.py).
//
// The shared starting point: the seed preset's data come from SeedData and
// RandomData's from RandomData, both drawn with RNG (splitmix64, which
// bench/splitmix.py reproduces bit for bit); the initial weights are nn's
// Xavier (nn.InitParamsFrom with InitXavier, whatever the activation),
// drawn from Source(RNG(seed)) — the same uniform numbers, in the same
// order, as bench/splitmix.py's xavier_values — and set on the model with
// Model.SetParams; biases are zero.
package benchstep

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/nn"
)

// Spec describes the network and its update rule.
type Spec struct {
	// Model is the network: a BinaryHead (binary cross-entropy, one
	// output) or a SoftmaxHead. Its Init is not used: see New.
	Model nn.Spec
	// Optimizer is the update rule, with nn's constants (momentum's mu
	// 0.9; Adam's β1 0.9, β2 0.999, eps 1e-8).
	Optimizer nn.Optimizer
	// LR is the learning rate.
	LR float64
	// Models is the number of models of the array (nn.Array) each step
	// trains, in the dispatches of one model's step; 0 or 1 is one model
	// (nn.Model). Member k's weights are drawn from seed+k as nn.NewArray
	// draws them.
	Models int
}

// models is Models, at least 1.
func (s Spec) models() int { return max(s.Models, 1) }

// String describes the spec, e.g. "784-128-64-10 sigmoid softmax-ce sgd lr=0.01".
func (s Spec) String() string {
	sizes := s.Model.Sizes()
	parts := make([]string, len(sizes))
	for i, n := range sizes {
		parts[i] = fmt.Sprint(n)
	}
	str := fmt.Sprintf("%s %s %s %s lr=%g", strings.Join(parts, "-"), s.Model.Activation, s.Model.Head.Loss(), s.Optimizer, s.LR)
	if s.models() > 1 {
		str += fmt.Sprintf(" models=%d", s.models())
	}
	return str
}

// FLOPsPerSample counts the multiply-adds of one training step per sample,
// from the layer shapes alone: 2·in·out per layer forward, 4·in·out per
// layer backward (dW and dX), except that the first layer computes no dX
// (2·in·out). Elementwise work (activations, loss, update) is not counted.
func (s Spec) FLOPsPerSample() float64 {
	sizes := s.Model.Sizes()
	f := 0.0
	for i := 0; i+1 < len(sizes); i++ {
		io := float64(sizes[i]) * float64(sizes[i+1])
		f += 2 * io // forward
		if i == 0 {
			f += 2 * io // dW only
		} else {
			f += 4 * io // dW and dX
		}
	}
	return f
}

// windows is how many distinct minibatches a minibatch workload's order
// holds; step s trains on window s mod windows.
const windows = 16

// Workload is a model, its trainer (optimizer state, buffers, the resident
// data set and the order of its rows), allocated once by New.
type Workload struct {
	b     backend.Backend
	spec  Spec
	model *nn.Model
	arr   *nn.Array // instead of model, for Spec.Models > 1
	tr    *nn.Trainer
	full  bool // full batch: every row, in order, every step
	steps int
}

// New uploads d and builds a model for spec with minibatches of batch rows
// and its trainer. When batch ≥ d.Rows the step is full-batch gradient
// descent: every row, in order, as the classic tutorial does it. Otherwise
// the order holds 16 minibatches of rows drawn with replacement (with
// RNG(seed^0x5eed)), which steps cycle through. The weights are Xavier
// drawn from Source(NewRNG(seed)) (see the package documentation), biases
// zero.
func New(b backend.Backend, spec Spec, d *nn.Set, batch int, seed uint64) (w *Workload, err error) {
	if batch < 1 {
		return nil, fmt.Errorf("benchstep: batch %d", batch)
	}
	ms := spec.Model
	ms.Init = nn.InitXavier
	if err := ms.Validate(); err != nil {
		return nil, err
	}
	w = &Workload{b: b, spec: spec}
	if spec.Models > 1 {
		seeds := make([]uint64, spec.Models)
		for k := range seeds {
			seeds[k] = seed + uint64(k)
		}
		if w.arr, err = nn.NewArray(b, ms, seeds); err != nil {
			return nil, err
		}
	} else if w.model, err = nn.NewModel(b, ms, seed); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			w.Free()
			w = nil
		}
	}()
	if w.model != nil {
		if err = w.model.SetParams(nn.InitParamsFrom(ms, Source(NewRNG(seed)))); err != nil {
			return nil, err
		}
	}
	var order []uint32
	if batch >= d.Rows {
		w.full, batch = true, d.Rows
		order = make([]uint32, d.Rows)
		for i := range order {
			order[i] = uint32(i)
		}
	} else {
		rng := NewRNG(seed ^ 0x5eed)
		order = make([]uint32, windows*batch)
		for i := range order {
			order[i] = uint32(rng.Uint64() % uint64(d.Rows))
		}
	}
	cfg := nn.Config{Batch: batch, LR: spec.LR, Optimizer: spec.Optimizer}
	if w.arr != nil {
		w.tr, err = nn.NewArrayTrainer(w.arr, d, cfg, len(order))
	} else {
		w.tr, err = nn.NewTrainer(w.model, d, cfg, len(order))
	}
	if err != nil {
		return nil, err
	}
	if err = w.tr.SetOrder(order); err != nil {
		return nil, err
	}
	return w, b.Sync()
}

// Batch is the number of rows per step (d.Rows for full batch).
func (w *Workload) Batch() int { return w.tr.Batch() }

// FullBatch reports whether every step trains on the whole data set.
func (w *Workload) FullBatch() bool { return w.full }

// Bytes is the size of every tensor of the model and its trainer, at the
// backend's precision (float32 on the GPU, float64 on the CPU reference).
func (w *Workload) Bytes() uint64 { return w.tr.Bytes() }

// FLOPsPerStep is Spec.FLOPsPerSample times the batch and the models.
func (w *Workload) FLOPsPerStep() float64 {
	return w.spec.FLOPsPerSample() * float64(w.Batch()) * float64(w.spec.models())
}

// Models is the number of models each step trains.
func (w *Workload) Models() int { return w.spec.models() }

// Step records one training step (nn.Trainer.Step) on the next window: on
// the GPU 3L+1 dispatches for L layers (10 for 784-128-64-10, whatever the
// optimizer). The loss sum and the correct count accumulate on the device.
func (w *Workload) Step() {
	w.tr.Step()
	w.steps++
}

// Run records steps steps and syncs once.
func (w *Workload) Run(steps int) error {
	for range steps {
		w.Step()
	}
	return w.b.Sync()
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
func (w *Workload) RunChunked(steps, perSync int) (int, error) {
	syncs := 0
	for steps > 0 {
		n := min(steps, max(perSync, 1))
		if err := w.Run(n); err != nil {
			return syncs, err
		}
		steps -= n
		syncs++
	}
	return syncs, nil
}

// Steps is the number of steps recorded so far.
func (w *Workload) Steps() int { return w.steps }

// Final runs one more step and returns its mean loss and the fraction of
// its rows predicted right (by the outputs before that step's update). It
// reads back, so it is for the end of a run, not for timing.
func (w *Workload) Final() (loss, accuracy float64, err error) {
	w.tr.ResetSums()
	w.Step()
	l, c, err := w.tr.Sums()
	if err != nil {
		return 0, 0, err
	}
	n := float64(w.Batch())
	return l / n, c / n, nil
}

// Free releases the model and its trainer.
func (w *Workload) Free() {
	if w.tr != nil {
		w.tr.Free()
	}
	if w.arr != nil {
		w.arr.Free()
	} else {
		w.model.Free()
	}
}

// RNG is splitmix64: tiny, and easy to reproduce exactly in Python
// (bench/splitmix.py draws the same weights and data).
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

// Source returns r as a math/rand/v2 source whose rand.Rand.Float64 is
// r.Float64: rand.Rand makes a float64 of a source's low 53 bits and RNG of
// its high 53, so the source hands out each draw shifted right by 11. It
// is how nn.InitParamsFrom draws the peers' Xavier weights.
func Source(r *RNG) rand.Source { return source{r} }

type source struct{ r *RNG }

func (s source) Uint64() uint64 { return s.r.Uint64() >> 11 }
