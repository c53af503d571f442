package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/internal/enum"
	"github.com/gputrain/gputrain/table"
)

// Head is the output head of a model: how its last layer's outputs are read
// and which loss trains them.
type Head uint8

const (
	// BinaryHead has one logit z per row; the probability of class 1 is
	// sigmoid(z) and the loss is backend.BinaryCrossEntropy. Labels are 0 or 1.
	BinaryHead Head = iota
	// SoftmaxHead has C logits per row; the class probabilities are their
	// softmax and the loss is backend.SoftmaxCrossEntropy. Labels are class
	// indices 0..C-1.
	SoftmaxHead
	// RegressionHead has N raw outputs per row (identity) and the loss is
	// backend.MeanSquaredError against N targets per row.
	RegressionHead
)

var headNames = enum.Names[Head]{BinaryHead: "binary", SoftmaxHead: "softmax", RegressionHead: "regression"}

// String returns the head's name, as ParseHead accepts it.
func (h Head) String() string { return headNames.String(h, "Head") }

// ParseHead returns the head named s ("binary", "softmax" or "regression",
// in any case).
func ParseHead(s string) (Head, error) {
	if h, ok := headNames.Parse(s); ok {
		return h, nil
	}
	return 0, fmt.Errorf("unknown head %q (want one of %s)", s, headNames.List())
}

// Loss returns the backend loss that trains h. It panics for an unknown head.
func (h Head) Loss() backend.Loss {
	switch h {
	case BinaryHead:
		return backend.BinaryCrossEntropy
	case SoftmaxHead:
		return backend.SoftmaxCrossEntropy
	case RegressionHead:
		return backend.MeanSquaredError
	}
	panic(fmt.Sprintf("nn: unknown head %v", h))
}

// Classifies reports whether h predicts classes (and so has an accuracy).
func (h Head) Classifies() bool { return h == BinaryHead || h == SoftmaxHead }

// Init is a weight initialisation scheme. Biases always start at zero.
type Init uint8

const (
	// InitAuto picks InitHe for ReLU networks and InitXavier otherwise.
	InitAuto Init = iota
	// InitXavier (Glorot uniform) draws W uniformly from ±sqrt(6/(in+out)),
	// suited to sigmoid and tanh.
	InitXavier
	// InitHe (Kaiming normal) draws W from N(0, 2/in), suited to ReLU.
	InitHe
	// InitNormal draws W from N(0, 0.01²).
	InitNormal
)

var initNames = enum.Names[Init]{InitAuto: "auto", InitXavier: "xavier", InitHe: "he", InitNormal: "normal"}

// String returns the scheme's name, as ParseInit accepts it.
func (i Init) String() string { return initNames.String(i, "Init") }

// ParseInit returns the scheme named s ("auto", "xavier", "he" or "normal",
// in any case; "glorot" and "kaiming" are accepted too).
func ParseInit(s string) (Init, error) {
	switch strings.ToLower(s) {
	case "glorot":
		return InitXavier, nil
	case "kaiming":
		return InitHe, nil
	}
	if i, ok := initNames.Parse(s); ok {
		return i, nil
	}
	return 0, fmt.Errorf("unknown init %q (want one of %s)", s, initNames.List())
}

// Spec describes a sequential MLP: Inputs → Hidden[0] → … → Outputs. Hidden
// layers use Activation; the output layer is linear and Head says how its
// outputs are read.
type Spec struct {
	// Inputs is the number of features per row.
	Inputs int
	// Hidden lists the widths of the hidden layers; empty for a linear model.
	Hidden []int
	// Outputs is the width of the output layer: 1 for BinaryHead, the number
	// of classes (at least 2) for SoftmaxHead, the number of targets for
	// RegressionHead.
	Outputs int
	// Activation is the nonlinearity of the hidden layers.
	Activation backend.Activation
	// Head chooses the output head and the loss.
	Head Head
	// Init chooses the weight initialisation; InitAuto by default.
	Init Init
}

// Validate reports whether s describes a model that can be built.
func (s Spec) Validate() error {
	if s.Inputs < 1 {
		return fmt.Errorf("nn: spec needs at least 1 input, got %d", s.Inputs)
	}
	for i, h := range s.Hidden {
		if h < 1 {
			return fmt.Errorf("nn: hidden layer %d has width %d, want at least 1", i, h)
		}
	}
	if !s.Activation.Valid() {
		return fmt.Errorf("nn: unknown activation %v", s.Activation)
	}
	if !initNames.Valid(s.Init) {
		return fmt.Errorf("nn: unknown init %v", s.Init)
	}
	switch s.Head {
	case BinaryHead:
		if s.Outputs != 1 {
			return fmt.Errorf("nn: binary head needs 1 output, got %d", s.Outputs)
		}
	case SoftmaxHead:
		if s.Outputs < 2 {
			return fmt.Errorf("nn: softmax head needs at least 2 outputs (classes), got %d", s.Outputs)
		}
	case RegressionHead:
		if s.Outputs < 1 {
			return fmt.Errorf("nn: regression head needs at least 1 output, got %d", s.Outputs)
		}
	default:
		return fmt.Errorf("nn: unknown head %v", s.Head)
	}
	return nil
}

// Sizes returns the layer widths from input to output:
// [Inputs, Hidden..., Outputs].
func (s Spec) Sizes() []int {
	sz := make([]int, 0, len(s.Hidden)+2)
	sz = append(sz, s.Inputs)
	sz = append(sz, s.Hidden...)
	return append(sz, s.Outputs)
}

// String describes s, e.g. "784-128-10 relu softmax".
func (s Spec) String() string {
	parts := make([]string, 0, len(s.Hidden)+2)
	for _, n := range s.Sizes() {
		parts = append(parts, fmt.Sprint(n))
	}
	return fmt.Sprintf("%s %v %v", strings.Join(parts, "-"), s.Activation, s.Head)
}

// Scaling holds the affine maps between a data set's units and the model's.
// Features are standardised as (x-FeatureMean)/FeatureStd before the first
// layer; regression outputs are mapped back as y·TargetStd + TargetMean. A nil
// slice means no scaling on that side. Scaling is stored in checkpoints.
type Scaling struct {
	// FeatureMean and FeatureStd have one entry per input, or are nil.
	FeatureMean, FeatureStd []float64
	// TargetMean and TargetStd have one entry per output of a RegressionHead
	// model, or are nil.
	TargetMean, TargetStd []float64
}

// HasFeatures reports whether features are standardised.
func (s Scaling) HasFeatures() bool { return s.FeatureMean != nil }

// HasTargets reports whether regression targets are standardised.
func (s Scaling) HasTargets() bool { return s.TargetMean != nil }

func (s Scaling) validate(spec Spec) error {
	if (s.FeatureMean == nil) != (s.FeatureStd == nil) ||
		s.FeatureMean != nil && (len(s.FeatureMean) != spec.Inputs || len(s.FeatureStd) != spec.Inputs) {
		return fmt.Errorf("nn: feature scaling has %d means and %d stds for %d inputs",
			len(s.FeatureMean), len(s.FeatureStd), spec.Inputs)
	}
	if (s.TargetMean == nil) != (s.TargetStd == nil) ||
		s.TargetMean != nil && (len(s.TargetMean) != spec.Outputs || len(s.TargetStd) != spec.Outputs) {
		return fmt.Errorf("nn: target scaling has %d means and %d stds for %d outputs",
			len(s.TargetMean), len(s.TargetStd), spec.Outputs)
	}
	if s.TargetMean != nil && spec.Head != RegressionHead {
		return fmt.Errorf("nn: target scaling needs a regression head, not %v", spec.Head)
	}
	for _, sd := range append(append([]float64(nil), s.FeatureStd...), s.TargetStd...) {
		if !(sd > 0) || math.IsInf(sd, 0) {
			return fmt.Errorf("nn: scaling has a standard deviation of %v, want a positive finite number", sd)
		}
	}
	return nil
}

// TrainInfo records how a model was trained; it is stored in checkpoints.
type TrainInfo struct {
	// Epoch counts the epochs trained so far, over all Train calls.
	Epoch int `json:"epoch"`
	// Step counts the optimizer steps taken so far.
	Step int `json:"step"`
	// Optimizer names the optimizer of the last Train call.
	Optimizer string `json:"optimizer,omitempty"`
	// LR is the learning rate of the last Train call.
	LR float64 `json:"lr,omitempty"`
	// WeightDecay is the weight decay of the last Train call (see
	// Config.WeightDecay).
	WeightDecay float64 `json:"weight_decay,omitempty"`
	// Dropout is the dropout of the last Train call (see Config.Dropout).
	Dropout float64 `json:"dropout,omitempty"`
	// Seed is the seed the weights were initialised from.
	Seed uint64 `json:"seed"`
	// ShuffleSeed is the seed of the last Train call's shuffling.
	ShuffleSeed uint64 `json:"shuffle_seed"`
	// Data names the training set.
	Data string `json:"data,omitempty"`
	// Subset, when the model was trained on some classes of its data set
	// (data.Split.Subset), lists them in the order of the model's classes:
	// [3 8] means output class 0 is the data's class 3 and 1 is 8. Train
	// leaves it alone: whoever chose the classes sets it, so that the
	// checkpoint says which they were. nil means every class (or not
	// recorded).
	Subset []int `json:"subset,omitempty"`
	// Validation is the validation state of the last Train call, nil if it
	// had no validation set.
	Validation *ValidationInfo `json:"validation,omitempty"`
	// Schedule is where the learning-rate schedule of the last Train call
	// stands (see ScheduleInfo); nil for a constant rate.
	Schedule *ScheduleInfo `json:"schedule,omitempty"`
	// OptimizerState names the optimizer whose state (see
	// OptimizerStateNames) the model keeps, and a checkpoint holds beside
	// the parameters; empty when none. Train and Save set it (see
	// Model.OptimizerState); Train does not read it.
	OptimizerState string `json:"optimizer_state,omitempty"`
}

// Model is a sequential MLP whose parameters live on one backend. Like the
// backend, it is not safe for concurrent use.
type Model struct {
	// Spec is the architecture. Do not change it after NewModel.
	Spec Spec
	// Scaling maps data units to model units; set it before training (see
	// FitScaling and Config.Standardize) and keep it afterwards.
	Scaling Scaling
	// Info records the training so far.
	Info TrainInfo
	// Table, for a model trained on a CSV table, is the encoding that turns
	// the table's rows into the model's inputs (and its target into labels);
	// nil otherwise. It is stored in checkpoints (MetaTable).
	Table *table.Encoder

	b backend.Backend
	// n is the number of models the tensors below hold: 1 for a Model,
	// the members of an Array (see NewArray), whose training machinery is
	// the Model's own.
	n      int
	params backend.Tensor // every weight and bias, laid out by paramLayout; n models
	layers []layer
	// best, during a Train call with early stopping, holds the best epoch's
	// parameters (w0, b0, w1, b1, …): what Save writes then.
	best []backend.Tensor
	// ens is the ensemble metadata of a checkpoint being read (readModel),
	// nil for a single model's.
	ens *ensembleJSON
	// trainOpt is the running Train call's optimizer (nil outside one),
	// whose state Save writes. optDev is the optimizer's state on the
	// device, which Train calls share (the next call continues it when its
	// optimizer is the same); optState is one read from a checkpoint, which
	// the next Train call uploads.
	trainOpt *optimizer
	optDev   *optTensors
	optState *optState
}

type layer struct {
	in, out int
	act     backend.Activation
	w, bias backend.Tensor // in×out, 1×out: slices of Model.params
}

// NewModel builds the model spec describes on b, drawing its weights on the
// host from a math/rand/v2 PCG source seeded with seed (the same seed gives
// the same weights on every backend) and uploading them once. It returns an
// error when spec is invalid or the backend cannot hold the parameters.
func NewModel(b backend.Backend, spec Spec, seed uint64) (*Model, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Spec: spec, b: b, n: 1, Info: TrainInfo{Seed: seed}}
	m.Spec.Hidden = append([]int(nil), spec.Hidden...)
	if err := m.alloc(); err != nil {
		return nil, err
	}
	if err := m.SetParams(InitParams(spec, seed)); err != nil {
		m.Free()
		return nil, err
	}
	return m, nil
}

// alloc allocates zeroed parameters for m.Spec: one tensor, each layer's
// weights and bias slices of it (see paramLayout), so that one optimizer
// operation updates them all.
func (m *Model) alloc() error {
	if err := m.Spec.CheckMemory(false, 1); err != nil {
		return err
	}
	sz := m.Spec.Sizes()
	a := newAllocator(m.b)
	offsets, total := m.paramLayout()
	m.params = a.newArray(m.models(), total, 1, backend.Float)
	if a.err != nil {
		m.params = nil
		return fmt.Errorf("nn: allocating the parameters of %v: %w", m.Spec, a.err)
	}
	m.layers = make([]layer, len(sz)-1)
	for i := range m.layers {
		l := &m.layers[i]
		l.in, l.out = sz[i], sz[i+1]
		l.act = m.Spec.Activation
		if i == len(m.layers)-1 {
			l.act = backend.Identity
		}
		l.w = m.b.Slice(m.params, offsets[2*i], l.in, l.out)
		l.bias = m.b.Slice(m.params, offsets[2*i+1], 1, l.out)
	}
	return nil
}

// models is the number of models m's tensors hold (see Model.n).
func (m *Model) models() int { return max(m.n, 1) }

// Backend returns the backend m lives on.
func (m *Model) Backend() backend.Backend { return m.b }

// Free releases m's parameter tensors. m is unusable afterwards; Free may be
// called more than once.
func (m *Model) Free() {
	m.dropOptState()
	if m.params != nil {
		m.b.Free(m.params)
	}
	m.params, m.layers = nil, nil
}

func (m *Model) live() {
	if m.layers == nil {
		panic("nn: model used after Free")
	}
}

// Params holds the parameters of one layer on the host.
type Params struct {
	// In and Out are the layer's input and output widths.
	In, Out int
	// W is the In×Out weight matrix, row-major: W[i*Out+j] links input i to
	// output j.
	W []float64
	// B is the bias, one entry per output.
	B []float64
}

// InitParams draws the initial parameters of spec from seed, exactly as
// NewModel does: InitParamsFrom a PCG source seeded with (seed,
// 0x9e3779b97f4a7c15). It panics if spec is invalid.
func InitParams(spec Spec, seed uint64) []Params {
	return InitParamsFrom(spec, rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}

// InitParamsFrom draws the initial parameters of spec, by spec.Init, from
// src through a rand.Rand: layer by layer from the input, each weight
// matrix row-major (InitXavier: (2·Float64()−1)·sqrt(6/(in+out)); InitHe:
// NormFloat64()·sqrt(2/in); InitNormal: NormFloat64()·0.01); biases are
// zero. Models set with them (Model.SetParams) train from weights another
// program can draw too, as the benchmarks' peers do. It panics if spec is
// invalid.
func InitParamsFrom(spec Spec, src rand.Source) []Params {
	if err := spec.Validate(); err != nil {
		panic(err.Error())
	}
	rng := rand.New(src)
	scheme := spec.Init
	if scheme == InitAuto {
		scheme = InitXavier
		if spec.Activation == backend.ReLU {
			scheme = InitHe
		}
	}
	sz := spec.Sizes()
	ps := make([]Params, len(sz)-1)
	for i := range ps {
		in, out := sz[i], sz[i+1]
		p := Params{In: in, Out: out, W: make([]float64, in*out), B: make([]float64, out)}
		for k := range p.W {
			switch scheme {
			case InitXavier:
				lim := math.Sqrt(6 / float64(in+out))
				p.W[k] = (2*rng.Float64() - 1) * lim
			case InitHe:
				p.W[k] = rng.NormFloat64() * math.Sqrt(2/float64(in))
			default:
				p.W[k] = rng.NormFloat64() * 0.01
			}
		}
		ps[i] = p
	}
	return ps
}

// Params reads m's parameters back to the host, one entry per layer from
// input to output. It panics if m was freed.
func (m *Model) Params() ([]Params, error) {
	m.live()
	ps := make([]Params, len(m.layers))
	for i, l := range m.layers {
		w, err := m.b.ReadFloats(l.w)
		if err != nil {
			return nil, fmt.Errorf("nn: reading layer %d weights: %w", i, err)
		}
		bias, err := m.b.ReadFloats(l.bias)
		if err != nil {
			return nil, fmt.Errorf("nn: reading layer %d bias: %w", i, err)
		}
		ps[i] = Params{In: l.in, Out: l.out, W: w, B: bias}
	}
	return ps, nil
}

// SetParams uploads ps, one entry per layer in the shapes Params returns. A
// shape mismatch is returned as an error naming the layer and both shapes.
// It panics if m was freed.
func (m *Model) SetParams(ps []Params) error {
	m.live()
	if len(ps) != len(m.layers) {
		return fmt.Errorf("nn: %d layers of parameters for a model with %d layers (%v)", len(ps), len(m.layers), m.Spec)
	}
	for i, l := range m.layers {
		p := ps[i]
		if p.In != l.in || p.Out != l.out || len(p.W) != l.in*l.out || len(p.B) != l.out {
			return fmt.Errorf("nn: layer %d parameters are %dx%d (%d weights, %d biases), model wants %dx%d",
				i, p.In, p.Out, len(p.W), len(p.B), l.in, l.out)
		}
		if err := m.b.WriteFloats(l.w, p.W); err != nil {
			return fmt.Errorf("nn: writing layer %d weights: %w", i, err)
		}
		if err := m.b.WriteFloats(l.bias, p.B); err != nil {
			return fmt.Errorf("nn: writing layer %d bias: %w", i, err)
		}
	}
	return nil
}

// checkFinite reads the parameters and reports the first non-finite one.
func (m *Model) checkFinite() error {
	ps, err := m.Params()
	if err != nil {
		return err
	}
	return checkFiniteParams(ps)
}

// checkFiniteParams reports the first non-finite parameter of ps.
func checkFiniteParams(ps []Params) error {
	for i, p := range ps {
		for k, v := range p.W {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%w: layer %d weight [%d,%d] is %v", errNonFinite, i, k/p.Out, k%p.Out, v)
			}
		}
		for k, v := range p.B {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%w: layer %d bias [%d] is %v", errNonFinite, i, k, v)
			}
		}
	}
	return nil
}

// allocator allocates tensors and remembers them, so that a failed set of
// allocations can be undone at once. After the first failure it returns nil
// and keeps the error.
type allocator struct {
	b   backend.Backend
	ts  []backend.Tensor
	err error
}

func newAllocator(b backend.Backend) *allocator { return &allocator{b: b} }

func (a *allocator) new(rows, cols int, dt backend.DType) backend.Tensor {
	return a.newArray(1, rows, cols, dt)
}

// newArray allocates a tensor of models rows×cols matrices (see
// backend.Backend.NewArray).
func (a *allocator) newArray(models, rows, cols int, dt backend.DType) backend.Tensor {
	if a.err != nil {
		return nil
	}
	t, err := a.b.NewArray(models, rows, cols, dt)
	if err != nil {
		if models > 1 {
			a.err = fmt.Errorf("allocating a tensor of %d models of %dx%d %v: %w", models, rows, cols, dt, err)
		} else {
			a.err = fmt.Errorf("allocating a %dx%d %v tensor: %w", rows, cols, dt, err)
		}
		return nil
	}
	a.ts = append(a.ts, t)
	return t
}

func (a *allocator) free() {
	for _, t := range a.ts {
		a.b.Free(t)
	}
	a.ts = nil
}
