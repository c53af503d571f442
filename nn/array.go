package nn

import (
	"fmt"

	"github.com/gputrain/gputrain/backend"
)

// Array is N models of one Spec (N >= 1) whose parameters, gradients and
// optimizer state live in the same backend tensors (tensors of N models,
// see backend.Backend.NewArray) and are trained by the same dispatches: a
// training step of an array is the dispatches of one model's step (3L+1
// on the GPU for L layers), whatever N. A Model is the N = 1 case of the
// same machinery: the workspace, gradients, optimizer (with its
// per-model hyperparameter table), trainer and evaluator are the Model's
// own, built for the array's N models.
//
// Like a Model, an Array is not safe for concurrent use.
type Array struct {
	// Scaling maps data units to model units for every member; set it
	// before training (or let Config.Standardize fit it to the training
	// set) and keep it afterwards.
	Scaling Scaling

	m     *Model // the members' tensors: m.n = N
	seeds []uint64
	infos []TrainInfo
}

// NewArray builds len(seeds) models of spec on b, model k's weights drawn
// from seeds[k] exactly as NewModel(b, spec, seeds[k]) draws them, and
// uploads them in one write. It returns an error when spec is invalid, no
// seed is given or the backend cannot hold the parameters.
func NewArray(b backend.Backend, spec Spec, seeds []uint64) (*Array, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if len(seeds) == 0 {
		return nil, fmt.Errorf("nn: an array of no models")
	}
	m := &Model{Spec: spec, b: b, n: len(seeds)}
	m.Spec.Hidden = append([]int(nil), spec.Hidden...)
	if err := m.alloc(); err != nil {
		return nil, err
	}
	a := &Array{m: m, seeds: append([]uint64(nil), seeds...), infos: make([]TrainInfo, len(seeds))}
	ps := make([][]Params, len(seeds))
	for k, s := range seeds {
		ps[k] = InitParams(spec, s)
		a.infos[k].Seed = s
	}
	if err := a.setParams(ps); err != nil {
		a.Free()
		return nil, err
	}
	return a, nil
}

// Len is the number of models.
func (a *Array) Len() int { return len(a.seeds) }

// Spec is the members' architecture.
func (a *Array) Spec() Spec { return a.m.Spec }

// Backend returns the backend the array lives on.
func (a *Array) Backend() backend.Backend { return a.m.b }

// Info returns member k's training record (as Model.Info). It panics if k
// is out of range.
func (a *Array) Info(k int) TrainInfo { return a.infos[k] }

// Free releases the array's tensors; it is unusable afterwards. Free may
// be called more than once.
func (a *Array) Free() { a.m.Free() }

// pack lays out one member's parameters as paramLayout does, into v.
func (a *Array) pack(v []float64, ps []Params) error {
	offsets, _ := a.m.paramLayout()
	if len(ps) != len(a.m.layers) {
		return fmt.Errorf("nn: %d layers of parameters for a model with %d layers (%v)", len(ps), len(a.m.layers), a.m.Spec)
	}
	for i, l := range a.m.layers {
		p := ps[i]
		if p.In != l.in || p.Out != l.out || len(p.W) != l.in*l.out || len(p.B) != l.out {
			return fmt.Errorf("nn: layer %d parameters are %dx%d (%d weights, %d biases), model wants %dx%d",
				i, p.In, p.Out, len(p.W), len(p.B), l.in, l.out)
		}
		copy(v[offsets[2*i]:], p.W)
		copy(v[offsets[2*i+1]:], p.B)
	}
	return nil
}

// unpack is pack's inverse for one member's packed parameters v.
func (a *Array) unpack(v []float64) []Params {
	offsets, _ := a.m.paramLayout()
	ps := make([]Params, len(a.m.layers))
	for i, l := range a.m.layers {
		w, b := offsets[2*i], offsets[2*i+1]
		ps[i] = Params{In: l.in, Out: l.out,
			W: append([]float64(nil), v[w:w+l.in*l.out]...), B: append([]float64(nil), v[b:b+l.out]...)}
	}
	return ps
}

// setParams writes every member's parameters in one write.
func (a *Array) setParams(ps [][]Params) error {
	_, total := a.m.paramLayout()
	v := make([]float64, len(ps)*total)
	for k, p := range ps {
		if err := a.pack(v[k*total:(k+1)*total], p); err != nil {
			return fmt.Errorf("nn: member %d: %w", k, err)
		}
	}
	if err := a.m.b.WriteFloats(a.m.params, v); err != nil {
		return fmt.Errorf("nn: writing the parameters of %d models: %w", len(ps), err)
	}
	return nil
}

// packedAll reads every member's packed parameters (one readback).
func (a *Array) packedAll() ([][]float64, error) {
	v, err := a.m.b.ReadFloats(a.m.params)
	if err != nil {
		return nil, fmt.Errorf("nn: reading the parameters of %d models: %w", a.Len(), err)
	}
	_, total := a.m.paramLayout()
	out := make([][]float64, a.Len())
	for k := range out {
		out[k] = v[k*total : (k+1)*total]
	}
	return out, nil
}

// Params reads member k's parameters back to the host, one entry per
// layer from input to output (as Model.Params). It panics if k is out of
// range or a was freed.
func (a *Array) Params(k int) ([]Params, error) {
	a.m.live()
	if k < 0 || k >= a.Len() {
		panic(fmt.Sprintf("nn: Array.Params: member %d of %d", k, a.Len()))
	}
	all, err := a.packedAll()
	if err != nil {
		return nil, err
	}
	return a.unpack(all[k]), nil
}

// Model returns a standalone Model on the array's backend holding member
// k's parameters, the array's Spec and Scaling and member k's Info, for
// saving, evaluating or predicting; the caller frees it. It panics if k is
// out of range or a was freed.
func (a *Array) Model(k int) (*Model, error) {
	ps, err := a.Params(k)
	if err != nil {
		return nil, err
	}
	m, err := NewModel(a.m.b, a.m.Spec, a.seeds[k])
	if err != nil {
		return nil, err
	}
	if err := m.SetParams(ps); err != nil {
		m.Free()
		return nil, err
	}
	m.Scaling = a.Scaling
	m.Info = a.infos[k]
	if v := m.Info.Validation; v != nil {
		info := *v
		m.Info.Validation = &info
	}
	return m, nil
}
