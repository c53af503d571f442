// Package backend defines the seam between gputrain's training code and the
// machines that run it.
//
// A Backend owns tensors (row-major matrices resident on its device) and
// records operations on them. The GPU backend (package gpu) runs each
// operation as a WGSL compute shader in float32; the CPU reference (package
// cpuref) runs the same operation in float64 on the CPU. Training code (package
// nn) is written against this interface alone and never names a backend, so
// one model definition and one test run on either.
//
// # Execution model
//
// Operations are recorded in call order. A backend may defer them (the GPU
// backend records a whole training step into one command buffer) but must run
// them, in order, no later than the next ReadFloats or Sync. Host data moves
// only through the Write and Read methods.
//
// # Errors and panics
//
// Wiring mistakes are programmer errors: a shape mismatch, a tensor of the
// wrong DType, a tensor that belongs to another backend, or a freed tensor
// makes an operation panic with a message that names the operation and the
// shapes. Device and resource failures (out of memory, a lost device, a
// shader that does not compile) are returned as errors by New, the Write and
// Read methods, Sync and Close.
package backend

import (
	"fmt"

	"github.com/gputrain/gputrain/internal/enum"
)

// SliceAlign is the alignment of a Slice's offset, in elements: 64 float32
// values are 256 bytes, the largest storage-buffer offset alignment WebGPU
// allows an adapter to require.
const SliceAlign = 64

// Pack lays tensors of the given element counts out one after the other in
// a single tensor, each starting at a multiple of SliceAlign: it returns
// each one's offset, for Slice, and the total number of elements. It panics
// if a count is less than 1.
func Pack(counts ...int) (offsets []int, total int) {
	offsets = make([]int, len(counts))
	for i, n := range counts {
		if n < 1 {
			panic(fmt.Sprintf("Pack: tensor %d has %d elements", i, n))
		}
		offsets[i] = total
		total += (n + SliceAlign - 1) / SliceAlign * SliceAlign
	}
	return offsets, total
}

// DType is the element type of a tensor.
type DType uint8

const (
	// Float holds real numbers: float32 on the GPU, float64 in the reference.
	Float DType = iota
	// Byte holds unsigned 8-bit values, such as raw pixels. Byte tensors are
	// written once and read only by Gather.
	Byte
	// Index holds unsigned 32-bit row indices, read by Gather.
	Index
)

var dtypeNames = enum.Names[DType]{Float: "float", Byte: "byte", Index: "index"}

func (d DType) String() string { return dtypeNames.String(d, "DType") }

// Activation is an elementwise nonlinearity.
type Activation uint8

const (
	// Identity is f(z) = z.
	Identity Activation = iota
	// Sigmoid is f(z) = 1/(1+exp(-z)), evaluated without overflow for large |z|.
	Sigmoid
	// ReLU is f(z) = max(z, 0).
	ReLU
	// Tanh is f(z) = tanh(z).
	Tanh
)

var activationNames = enum.Names[Activation]{Identity: "identity", Sigmoid: "sigmoid", ReLU: "relu", Tanh: "tanh"}

func (a Activation) String() string { return activationNames.String(a, "Activation") }

// Valid reports whether a is one of the activations above.
func (a Activation) Valid() bool { return activationNames.Valid(a) }

// ParseActivation returns the activation named s ("identity", "sigmoid",
// "relu" or "tanh", in any case).
func ParseActivation(s string) (Activation, error) {
	if a, ok := activationNames.Parse(s); ok {
		return a, nil
	}
	return 0, fmt.Errorf("unknown activation %q (want one of %s)", s, activationNames.List())
}

// Loss names a loss function together with the output head it expects.
type Loss uint8

const (
	// BinaryCrossEntropy takes logits z (B×1) and targets t ∈ {0,1} (B×1).
	// The per-row loss is the cross-entropy of sigmoid(z) against t, computed
	// from the logit in the stable form max(z,0) - z·t + log(1+exp(-|z|)).
	BinaryCrossEntropy Loss = iota
	// SoftmaxCrossEntropy takes logits z (B×C) and class indices (B×1, stored
	// as floats 0..C-1). The per-row loss is logsumexp(z) - z[class].
	SoftmaxCrossEntropy
	// MeanSquaredError takes predictions p (B×N) and targets t (B×N). The
	// per-row loss is the mean over the row of (p-t)².
	MeanSquaredError
)

var lossNames = enum.Names[Loss]{BinaryCrossEntropy: "bce", SoftmaxCrossEntropy: "softmax-ce", MeanSquaredError: "mse"}

func (l Loss) String() string { return lossNames.String(l, "Loss") }

// Tensor is a rows×cols row-major matrix that lives on one backend, or a
// model array of them: Models() matrices of that shape, stored one after
// another (see Backend.NewArray). Only the backend that made it may use it.
type Tensor interface {
	Rows() int
	Cols() int
	DType() DType
	// Models is the number of rows×cols matrices the tensor holds, one per
	// model of a model array; 1 for a plain tensor.
	Models() int
}

// Info describes what a backend runs on.
type Info struct {
	// Kind is "gpu" or "cpu".
	Kind string
	// API is the graphics API: "vulkan", "metal", "dx12", "gl", or "cpu".
	API string
	// Adapter is the device's own description, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)".
	Adapter string
	// AdapterType is "discrete", "integrated", "cpu" (a software rasteriser
	// such as lavapipe), "virtual" or "unknown".
	AdapterType string
	// Driver is the driver's description, where the adapter gives one.
	Driver string
	// Precision is "float32" or "float64".
	Precision string
}

// String gives a one-line description such as
// "gpu: llvmpipe (LLVM 15.0.6, 256 bits) [vulkan, cpu, float32]".
func (i Info) String() string {
	return fmt.Sprintf("%s: %s [%s, %s, %s]", i.Kind, i.Adapter, i.API, i.AdapterType, i.Precision)
}

// Backend runs tensor operations on one device. A Backend is not safe for
// concurrent use: one goroutine owns it (see package gpu for why).
//
// In the shapes below, a tensor written "m×n" has m rows and n columns, and
// op(A) is A or its transpose Aᵀ.
//
// # Model arrays
//
// Every operation runs per model (see NewArray): its outputs (the tensors
// it writes, in place or not) all have the same number of models N, and it
// applies the operation to model k of each for k = 0 … N−1, in the same
// dispatches whatever N is. An input has N models, or exactly 1, which
// every model then reads (a broadcast: a resident data set and its targets,
// a shared order, a shared hyperparameter table). Anything else panics with
// a message that names the operation and the shapes. An Index tensor of N
// models read by Gather, GatherMatMulBiasActivate or LossGradCount lists
// model k's rows in its model k. Model k of an output is bit for bit what
// the operation gives on model k's inputs alone.
type Backend interface {
	// Info describes the device.
	Info() Info

	// New allocates a rows×cols tensor of type dt, filled with zeros: it
	// is NewArray(1, rows, cols, dt).
	New(rows, cols int, dt DType) (Tensor, error)
	// NewArray allocates a tensor of models rows×cols matrices of type dt,
	// stored one after another and filled with zeros. It panics if models,
	// rows or cols is less than 1, and returns an error when the device
	// cannot hold the tensor (the error names the limit and the size).
	NewArray(models, rows, cols int, dt DType) (Tensor, error)
	// View returns the first rows rows of t (of every model of t), sharing
	// t's storage. It panics if rows is outside [1, t.Rows()]. A view
	// stays valid until t is freed.
	View(t Tensor, rows int) Tensor
	// Slice returns the rows×cols tensor whose elements are the Float
	// tensor t's elements offset … offset+rows·cols−1 in row-major order
	// (in every model of t: the slice has t's models),
	// sharing t's storage: several tensors kept in one (a model's
	// parameters, their gradients, an optimizer's state), so that one
	// operation can cover them all. offset must be a multiple of
	// SliceAlign and the slice must lie inside t; it panics otherwise (see
	// CheckSlice). A slice stays valid until t is freed. On the GPU an
	// operation may not write one slice of a tensor and read another
	// slice of it (WebGPU forbids binding a buffer for writing and for
	// reading in one dispatch): it panics; reading several, or writing
	// several, is fine.
	Slice(t Tensor, offset, rows, cols int) Tensor
	// Free releases t's storage. Freeing a view or a slice does nothing.
	// Using a freed tensor, or a view or slice of one, panics.
	Free(t Tensor)

	// WriteFloats copies src (len models·rows·cols: model k's matrix at
	// k·rows·cols, row-major) into the Float tensor t. On the GPU the
	// values are rounded to float32.
	WriteFloats(t Tensor, src []float64) error
	// WriteBytes copies src (len models·rows·cols) into the Byte tensor t.
	WriteBytes(t Tensor, src []byte) error
	// WriteIndices copies src (len models·rows·cols) into the Index tensor t.
	WriteIndices(t Tensor, src []uint32) error
	// ReadFloats runs all recorded work and returns the contents of the
	// Float tensor t, row-major, model after model (as WriteFloats takes
	// them).
	ReadFloats(t Tensor) ([]float64, error)

	// MatMul sets c = op(a)·op(b), where op(a) is m×k, op(b) is k×n and c
	// is m×n; transA and transB select the transposes. c must not be a or b.
	MatMul(c, a, b Tensor, transA, transB bool)
	// BiasActivate sets y = act(y + bias) in place, adding the 1×n bias to
	// every row of the m×n y.
	BiasActivate(y, bias Tensor, act Activation)
	// MatMulBiasActivate sets y = act(x·w + bias): a dense layer's forward
	// pass in one operation (one dispatch on the GPU, where MatMul and
	// BiasActivate take two). x is m×k, w k×n, bias 1×n and y m×n; y must
	// not be x or w. With drop on (see Dropout), y is the dropped output
	// mask ⊙ act(x·w + bias) · 1/(1−P), the mask applied as y is stored.
	MatMulBiasActivate(y, x, w, bias Tensor, act Activation, drop Dropout)
	// GatherMatMulBiasActivate is Gather(x, src, idx, offset, scale)
	// followed by MatMulBiasActivate(y, x, w, bias, act), in one operation
	// (one dispatch on the GPU): the first layer of a minibatch step reads
	// its rows straight from the resident data set, and x keeps them for
	// the backward pass. x is m×k, src has k columns, w is k×n, bias 1×n
	// and y m×n; y must not be x, w or src, and x not src. drop is
	// MatMulBiasActivate's.
	GatherMatMulBiasActivate(x, src, idx Tensor, offset int, scale float64, y, w, bias Tensor, act Activation, drop Dropout)
	// MatMulActivationGrad sets dz = (g·op(w)) ⊙ act'(z), where y = act(z)
	// is the m×n output whose derivative is taken (see ActivationGrad): the
	// gradient passed back through a dense layer and the activation before
	// it, in one operation (MatMul and ActivationGrad fused). g is m×k,
	// op(w) k×n (w is n×k if transW, k×n otherwise); dz must not be g, w or y.
	//
	// With drop on, y is the output of a forward operation that applied
	// drop, and dz is the gradient through the dropout too: dz = (g·op(w))
	// ⊙ mask · 1/(1−P) · act'(z), the same mask drawn again, and act'(z)
	// computed from the undropped output y·(1−P) where the mask keeps an
	// element (elsewhere dz is 0).
	MatMulActivationGrad(dz, g, w, y Tensor, transW bool, act Activation, drop Dropout)
	// ActivationGrad sets d = d ⊙ act'(z) in place, where y = act(z) is the
	// m×n output of the forward pass: the derivative is computed from y
	// (sigmoid: y(1-y); tanh: 1-y²; relu: 1 where y > 0, else 0).
	ActivationGrad(d, y Tensor, act Activation)
	// ColumnSum sets the 1×n dst to the sum of the rows of the m×n src.
	ColumnSum(dst, src Tensor)
	// MatMulColumnSum sets dw = xᵀ·dy and db to the column sums of dy: a
	// dense layer's weight and bias gradients in one operation (MatMul
	// with transA and ColumnSum fused: one dispatch on the GPU). x is m×k,
	// dy m×n, dw k×n and db 1×n; dw and db must be neither x nor dy nor
	// each other.
	MatMulColumnSum(dw, db, x, dy Tensor)
	// LossGrad evaluates the loss of the m×n out against target (see Loss
	// for the shapes), sets grad (m×n) to the gradient of the mean per-row
	// loss with respect to out, and adds the sum of the per-row losses to
	// the 1×1 loss (of each model: loss has the models of grad). Non-finite values propagate into loss, so one read of an
	// accumulated loss also tells whether any step diverged.
	LossGrad(loss, grad, out, target Tensor, kind Loss)
	// CountCorrect adds to the 1×1 count the number of rows of out whose
	// prediction matches target: logit > 0 against t for BinaryCrossEntropy,
	// the first largest logit against the class for SoftmaxCrossEntropy.
	// It panics for MeanSquaredError.
	CountCorrect(count, out, target Tensor, kind Loss)
	// LossGradCount is LossGrad(loss, grad, out, target, kind) and, when
	// count is not nil, CountCorrect(count, out, target, kind), in one pass
	// over out (one dispatch on the GPU), with the targets read through idx
	// as Gather reads rows: row i of the target is row idx[offset+i] of
	// target, which may have any number of rows. With idx nil, row i is
	// target's row i (and offset must be 0), shaped as LossGrad wants it.
	// count must be nil for MeanSquaredError. An index outside target's
	// rows is a programmer error that the reference panics on and the GPU
	// clamps.
	//
	// weights, unless nil, is a Float 1×C table of class weights (C =
	// out's columns for SoftmaxCrossEntropy, 2 for BinaryCrossEntropy),
	// of grad's models or 1: row i's loss and gradient are multiplied by
	// the weight of its class (class 1 for a binary target above 0.5),
	// still divided by the rows (Keras's class_weight: the batch mean of
	// the weighted losses). It must be nil for MeanSquaredError.
	LossGradCount(loss, count, grad, out, target, idx Tensor, offset int, kind Loss, weights Tensor)
	// Gather sets row i of dst (m×n) to scale·src[idx[offset+i]], for the
	// Index tensor idx (any shape, read as a flat list) and a Float or Byte
	// src with n columns. It panics if offset+m exceeds the number of
	// indices; an index outside src's rows is a programmer error that the
	// reference panics on and the GPU clamps.
	Gather(dst, src, idx Tensor, offset int, scale float64)
	// Fill sets every element of the Float tensor t to v.
	Fill(t Tensor, v float64)

	// The optimizers read their hyperparameters from hp, a small Float
	// table on the device with one row per model (1×SGDHPCols,
	// 1×MomentumHPCols or 1×AdamHPCols, laid out as the HP constants say;
	// SGDHP, MomentumHP, AdamHP and AdamWHP build a row), so that the
	// models of an array may each have their own, and a model whose lr is
	// 0 is frozen. hp has the models of w, or 1 (shared). The host may
	// rewrite hp between steps (a learning-rate schedule): a write is
	// ordered after the operations recorded before it.
	//
	// Weight decay: wd = hp[HPWeightDecay] is an L2 penalty folded into
	// the gradient, g' = g + wd·d·w, where d is element i of decay, the
	// per-element multiplier of the decay (1 for weights, 0 for biases and
	// padding: see nn's parameter layout); a nil decay decays every
	// element (d = 1). decay has w's shape and its models or 1. With wd 0
	// the update is bit for bit the one without decay.
	//
	// Gradient clipping: with c = hp[HPClipNorm] non-zero, every optimizer
	// first scales g by min(1, c/(sqrt(hp[HPGradNormSq]) + 1e-6)), as
	// PyTorch's clip_grad_norm_ does; GradNormSq sets hp[HPGradNormSq] to
	// the squared norm of the gradient before the update. With c = 0 g is
	// used as it is.

	// SGD sets w -= lr·g', lr = hp[HPLR] (hp 1×SGDHPCols).
	SGD(w, g, hp, decay Tensor)
	// SGDCompensated sets w -= lr·g' with Kahan-compensated summation, lr
	// = hp[HPLR] (hp 1×SGDHPCols), every element decayed (no decay mask):
	// c (same shape as w, zero at the start)
	// carries the low-order part that rounding dropped from w, so that
	// w − c tracks the exact sum of the updates even when each update is
	// far below w's precision: y = −lr·g' − c; t = w + y; c = (t − w) − y;
	// w = t.
	SGDCompensated(w, g, c, hp Tensor)
	// Momentum sets v = mu·v + g', then w -= lr·v, with lr = hp[HPLR] and
	// mu = hp[HPMomentum] (hp 1×MomentumHPCols): PyTorch's SGD with
	// momentum, dampening 0 and weight_decay wd.
	Momentum(w, g, v, hp, decay Tensor)
	// Adam applies one Adam update with step number step (counted from 1;
	// it panics for step < 1), with lr, β1, β2 and eps = hp[HPLR],
	// hp[HPBeta1], hp[HPBeta2], hp[HPEps] (hp 1×AdamHPCols), the L2 decay
	// wd folded into g' and the decoupled decay dw = hp[HPDecoupledDecay]
	// (AdamW's weight_decay) applied to w beside the step:
	// m = β1·m + (1-β1)·g'; v = β2·v + (1-β2)·g'²;
	// w -= lr · ((m/(1-β1^step)) / (sqrt(v/(1-β2^step)) + eps) + dw·d·w).
	Adam(w, g, m, v, hp, decay Tensor, step int)
	// GradNormSq sets hp[HPGradNormSq] of each model to Σ g², the squared
	// 2-norm of every element of model k of g (a model's whole gradient,
	// laid out in one tensor): the reduction that gradient clipping reads
	// (see the optimizers). hp is any optimizer's table (1×cols, cols at
	// least SGDHPCols) of g's models; g has hp's models or 1.
	GradNormSq(hp, g Tensor)

	// Sync runs all recorded work and waits for it, returning the first
	// device error since the last Sync.
	Sync() error
	// Close releases every tensor and the device. The backend is unusable
	// afterwards.
	Close() error
}

// The layout of an optimizer's hyperparameter row (see Backend.SGD): the
// column of each hyperparameter, and the columns of each optimizer's table.
// Every table starts [lr, wd, clip, |g|²].
const (
	// HPLR is the learning rate's column, for every optimizer.
	HPLR = 0
	// HPWeightDecay is the L2 weight decay's column, for every optimizer:
	// wd·w is added to the gradient of each decayed element.
	HPWeightDecay = 1
	// HPClipNorm is the gradient-clipping threshold's column (0: no
	// clipping), for every optimizer.
	HPClipNorm = 2
	// HPGradNormSq is the column GradNormSq writes: the squared norm of
	// the gradient that clipping scales.
	HPGradNormSq = 3
	// HPMomentum is Momentum's mu.
	HPMomentum = 4
	// HPBeta1, HPBeta2 and HPEps are Adam's β1, β2 and eps.
	HPBeta1, HPBeta2, HPEps = 4, 5, 6
	// HPDecoupledDecay is Adam's decoupled weight decay (AdamW's): w -=
	// lr·dw·w beside the Adam step, not through the moments.
	HPDecoupledDecay = 7

	// SGDHPCols is the width of SGD's and SGDCompensated's table: [lr,
	// wd, clip, |g|²].
	SGDHPCols = 4
	// MomentumHPCols is the width of Momentum's table: [lr, wd, clip,
	// |g|², mu].
	MomentumHPCols = 5
	// AdamHPCols is the width of Adam's table: [lr, wd, clip, |g|², β1,
	// β2, eps, dw].
	AdamHPCols = 8
)

// SGDHP returns a row of SGD's (and SGDCompensated's) hyperparameter
// table, without weight decay or clipping (see WithWeightDecay and
// WithClipNorm).
func SGDHP(lr float64) []float64 { return []float64{HPLR: lr, HPGradNormSq: 0} }

// MomentumHP returns a row of Momentum's hyperparameter table, without
// weight decay or clipping.
func MomentumHP(lr, mu float64) []float64 {
	return []float64{HPLR: lr, HPMomentum: mu}
}

// AdamHP returns a row of Adam's hyperparameter table, without weight
// decay or clipping.
func AdamHP(lr, beta1, beta2, eps float64) []float64 {
	return []float64{HPLR: lr, HPBeta1: beta1, HPBeta2: beta2, HPEps: eps, HPDecoupledDecay: 0}
}

// AdamWHP returns a row of Adam's hyperparameter table for AdamW: decoupled
// weight decay dw (PyTorch's AdamW weight_decay), no L2 term.
func AdamWHP(lr, beta1, beta2, eps, dw float64) []float64 {
	row := AdamHP(lr, beta1, beta2, eps)
	row[HPDecoupledDecay] = dw
	return row
}

// WithWeightDecay sets the L2 weight decay of an optimizer's row to wd and
// returns the row.
func WithWeightDecay(row []float64, wd float64) []float64 {
	row[HPWeightDecay] = wd
	return row
}

// WithClipNorm sets the gradient-clipping threshold of an optimizer's row
// to c (0: none) and returns the row.
func WithClipNorm(row []float64, c float64) []float64 {
	row[HPClipNorm] = c
	return row
}

// NewHP allocates a Float table of models rows hp (hp repeated, one
// 1×len(hp) matrix per model) and writes it: an optimizer's hyperparameters
// shared by models models (pass 1 to share one row with every model of an
// array). It panics if models < 1 or hp is empty.
func NewHP(b Backend, models int, hp []float64) (Tensor, error) {
	t, err := b.NewArray(models, 1, len(hp), Float)
	if err != nil {
		return nil, err
	}
	v := make([]float64, 0, models*len(hp))
	for range models {
		v = append(v, hp...)
	}
	if err := b.WriteFloats(t, v); err != nil {
		b.Free(t)
		return nil, err
	}
	return t, nil
}

// MultiReader is implemented by backends that read several tensors back for
// the price of one: the GPU backend copies them all into one staging buffer
// and waits once. Use ReadAll rather than asserting it.
type MultiReader interface {
	// ReadFloatsAll is ReadFloats of each tensor, in order, with one wait.
	ReadFloatsAll(ts ...Tensor) ([][]float64, error)
}

// ReadAll returns the contents of the Float tensors ts, in order: with one
// wait where b is a MultiReader, else by ReadFloats one at a time.
func ReadAll(b Backend, ts ...Tensor) ([][]float64, error) {
	if mr, ok := b.(MultiReader); ok {
		return mr.ReadFloatsAll(ts...)
	}
	out := make([][]float64, len(ts))
	for i, t := range ts {
		v, err := b.ReadFloats(t)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
