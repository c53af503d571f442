package nn

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/safetensors"
)

// optState is a model's optimizer state on the host: the update rule and
// its state tensors, each laid out as the parameters (paramLayout). The
// step count is the model's Info.Step.
type optState struct {
	kind   Optimizer
	s1, s2 []float64 // momentum velocity / Adam's m; Adam's v
}

// OptimizerStateNames returns the names under which a checkpoint keeps
// optimizer o's state, per parameter, as PyTorch's optimizers name it in
// their state_dict: momentum_buffer for Momentum, exp_avg and exp_avg_sq
// for Adam and AdamW, none for SGD. The tensors are named
// "optimizer.{name}.layers.{i}.weight" and ".bias", shaped as the
// parameter they belong to (see OptimizerTensorName).
func OptimizerStateNames(o Optimizer) []string {
	switch o {
	case Momentum:
		return []string{"momentum_buffer"}
	case Adam, AdamW:
		return []string{"exp_avg", "exp_avg_sq"}
	}
	return nil
}

// OptimizerTensorName returns the checkpoint name of the optimizer state
// called state of parameter param (WeightName(i) or BiasName(i)).
func OptimizerTensorName(state, param string) string { return "optimizer." + state + "." + param }

// read reads o's state back (one wait for both tensors).
func (o *optimizer) read() (*optState, error) {
	st := &optState{kind: o.kind}
	var ts []backend.Tensor
	for _, t := range []backend.Tensor{o.s1, o.s2} {
		if t != nil {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		return st, nil
	}
	r, err := backend.ReadAll(o.b, ts...)
	if err != nil {
		return nil, fmt.Errorf("nn: reading the optimizer's state: %w", err)
	}
	st.s1 = r[0]
	if len(r) > 1 {
		st.s2 = r[1]
	}
	return st, nil
}

// write uploads st, which must be of o's rule and layout.
func (o *optimizer) write(st *optState) error {
	for _, p := range []struct {
		t backend.Tensor
		v []float64
	}{{o.s1, st.s1}, {o.s2, st.s2}} {
		if p.t == nil {
			continue
		}
		if err := o.b.WriteFloats(p.t, p.v); err != nil {
			return fmt.Errorf("nn: writing the optimizer's state: %w", err)
		}
	}
	return nil
}

// currentOptState is the optimizer state a checkpoint of m holds: the
// running Train call's, else the one m keeps from its last call or its
// checkpoint; none for a model array, or while Save writes the best
// epoch's weights (early stopping: the state is a later epoch's).
func (m *Model) currentOptState() (*optState, error) {
	switch {
	case m.best != nil || m.models() > 1:
		return nil, nil
	case m.trainOpt != nil:
		return m.trainOpt.read()
	case m.optDev != nil:
		return (&optimizer{b: m.b, kind: m.optDev.kind, s1: m.optDev.s1, s2: m.optDev.s2}).read()
	}
	return m.optState, nil
}

// optTensors is a model's optimizer state on the device, which it keeps
// from one Train call to the next (see Model.optDev).
type optTensors struct {
	kind   Optimizer
	a      *allocator
	s1, s2 backend.Tensor
}

// stateTensors returns the state of update rule kind for a Train call of
// m: the state m keeps when it is of that rule, else new state, zero or
// uploaded from the checkpoint m was loaded from when that is of the rule.
func (m *Model) stateTensors(kind Optimizer) (*optTensors, error) {
	if d := m.optDev; d != nil && d.kind == kind {
		return d, nil
	}
	host := m.optState
	m.dropOptState()
	d := &optTensors{kind: kind, a: newAllocator(m.b)}
	rows, cols := m.params.Rows(), m.params.Cols()
	if kind != SGD {
		d.s1 = d.a.newArray(m.models(), rows, cols, backend.Float) // zero
	}
	if kind == Adam || kind == AdamW {
		d.s2 = d.a.newArray(m.models(), rows, cols, backend.Float)
	}
	if d.a.err != nil {
		d.a.free()
		return nil, fmt.Errorf("nn: allocating the optimizer's state for %v: %w", m.Spec, d.a.err)
	}
	if host != nil && host.kind == kind {
		if err := (&optimizer{b: m.b, kind: kind, s1: d.s1, s2: d.s2}).write(host); err != nil {
			d.a.free()
			return nil, err
		}
	}
	m.optDev = d
	return d, nil
}

// dropOptState forgets m's optimizer state, on the device and the host.
func (m *Model) dropOptState() {
	if m.optDev != nil {
		m.optDev.a.free()
	}
	m.optDev, m.optState = nil, nil
}

// optTensors returns st's tensors, per layer and out×in as the weights.
func (m *Model) optTensors(st *optState, dt safetensors.DType) []safetensors.Tensor {
	offsets, _ := m.paramLayout()
	var ts []safetensors.Tensor
	for k, name := range OptimizerStateNames(st.kind) {
		flat := st.s1
		if k == 1 {
			flat = st.s2
		}
		for i, l := range m.layers {
			w := flat[offsets[2*i] : offsets[2*i]+l.in*l.out]
			wt := make([]float64, len(w))
			for r := range l.in {
				for c := range l.out {
					wt[c*l.in+r] = w[r*l.out+c]
				}
			}
			b := append([]float64(nil), flat[offsets[2*i+1]:offsets[2*i+1]+l.out]...)
			ts = append(ts,
				safetensors.Tensor{Name: OptimizerTensorName(name, WeightName(i)), Shape: []int{l.out, l.in}, DType: dt, Data: wt},
				safetensors.Tensor{Name: OptimizerTensorName(name, BiasName(i)), Shape: []int{l.out}, DType: dt, Data: b})
		}
	}
	return ts
}

// optStateFrom builds the state of rule kind from f's checked tensors.
func (m *Model) optStateFrom(f *safetensors.File, kind Optimizer) *optState {
	offsets, total := m.paramLayout()
	st := &optState{kind: kind}
	for k, name := range OptimizerStateNames(kind) {
		flat := make([]float64, total)
		for i, l := range m.layers {
			w := f.Tensor(OptimizerTensorName(name, WeightName(i))).Data
			for r := range l.out {
				for c := range l.in {
					flat[offsets[2*i]+c*l.out+r] = w[r*l.in+c]
				}
			}
			copy(flat[offsets[2*i+1]:], f.Tensor(OptimizerTensorName(name, BiasName(i))).Data)
		}
		if k == 0 {
			st.s1 = flat
		} else {
			st.s2 = flat
		}
	}
	return st
}

// metaOptimizer returns the optimizer whose state a checkpoint's metadata
// says it holds, and whether it holds one.
func metaOptimizer(meta map[string]string) (Optimizer, bool, error) {
	var info TrainInfo
	if s := meta[MetaTraining]; s != "" {
		if err := json.Unmarshal([]byte(s), &info); err != nil {
			return 0, false, fmt.Errorf("nn: checkpoint training info %q: %w", s, err)
		}
	}
	if info.OptimizerState == "" {
		return 0, false, nil
	}
	o, err := ParseOptimizer(info.OptimizerState)
	if err != nil {
		return 0, false, fmt.Errorf("nn: checkpoint training info: optimizer_state: %w", err)
	}
	return o, true, nil
}

// OptimizerState reports which optimizer's state m holds for its next
// Train call (from its checkpoint, or kept from its last call): a call with
// that Optimizer continues it (Adam's moments, the momentum velocity), any
// other starts from zero. ok is false when m holds none.
func (m *Model) OptimizerState() (o Optimizer, ok bool) {
	switch {
	case m.optDev != nil:
		return m.optDev.kind, true
	case m.optState != nil:
		return m.optState.kind, true
	}
	return 0, false
}

// checkFiniteState returns an error wrapping errNonFinite for a NaN or
// infinite value of st.
func checkFiniteState(st *optState) error {
	for k, v := range [][]float64{st.s1, st.s2} {
		for i, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%w: %s [%d] is %v", errNonFinite, OptimizerStateNames(st.kind)[k], i, x)
			}
		}
	}
	return nil
}
