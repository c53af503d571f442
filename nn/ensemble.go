package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/internal/atomicfile"
	"github.com/gputrain/gputrain/safetensors"
)

// MetaEnsemble, in the checkpoint of an ensemble, holds {"members": N,
// "training": [the TrainInfo of each member]}; the members' tensors are
// named "members.{k}.layers.{i}.weight" and "members.{k}.layers.{i}.bias"
// (MemberPrefix), and MetaTraining holds member 0's TrainInfo. A single
// model's checkpoint has no MetaEnsemble key.
const MetaEnsemble = "ensemble"

// MaxEnsemble is the most members a checkpoint may claim.
const MaxEnsemble = 1 << 16

// MemberPrefix is the prefix of member k's tensor names in an ensemble's
// checkpoint: "members.{k}.".
func MemberPrefix(k int) string { return fmt.Sprintf("members.%d.", k) }

type ensembleJSON struct {
	Members  int         `json:"members"`
	Training []TrainInfo `json:"training"`
}

func memberPrefixes(n int) []string {
	p := make([]string, n)
	for k := range p {
		p[k] = MemberPrefix(k)
	}
	return p
}

// ensembleFromMeta decodes MetaEnsemble; nil when absent. The member count
// is checked against the tensors f holds (two per layer per member at
// least), so that no claim sizes an allocation beyond the file.
func ensembleFromMeta(meta map[string]string, f *safetensors.File) (*ensembleJSON, error) {
	s, ok := meta[MetaEnsemble]
	if !ok {
		return nil, nil
	}
	var e ensembleJSON
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		return nil, fmt.Errorf("nn: checkpoint ensemble %q: %w", s, err)
	}
	if e.Members < 1 || e.Members > MaxEnsemble || 2*e.Members > len(f.Tensors) {
		return nil, fmt.Errorf("nn: checkpoint ensemble claims %d members, the file holds %d tensors (want 1 to %d members, two tensors a layer each)",
			e.Members, len(f.Tensors), MaxEnsemble)
	}
	if len(e.Training) != e.Members {
		return nil, fmt.Errorf("nn: checkpoint ensemble of %d members has training info for %d", e.Members, len(e.Training))
	}
	for k, in := range e.Training {
		if err := in.validate(); err != nil {
			return nil, fmt.Errorf("nn: checkpoint ensemble member %d training info: %w", k, err)
		}
	}
	return &e, nil
}

// Ensemble is models of one Spec, Scaling and Table whose predictions are
// averaged: class probabilities for a classifier, outputs (in the
// targets' units) for a regression. A single model is the ensemble of 1,
// whose figures are the model's own.
//
// Like a Model, an Ensemble is not safe for concurrent use.
type Ensemble struct {
	Members []*Model
}

// NewEnsemble returns the members of arr as an Ensemble of standalone
// models on arr's backend (see Array.Model); the caller frees it.
func NewEnsemble(arr *Array) (*Ensemble, error) {
	e := &Ensemble{}
	for k := range arr.Len() {
		m, err := arr.Model(k)
		if err != nil {
			e.Free()
			return nil, err
		}
		e.Members = append(e.Members, m)
	}
	return e, nil
}

// Len is the number of members.
func (e *Ensemble) Len() int { return len(e.Members) }

// Spec is the members' architecture; it panics for an empty ensemble.
func (e *Ensemble) Spec() Spec { return e.Members[0].Spec }

// Backend is member 0's backend.
func (e *Ensemble) Backend() backend.Backend { return e.Members[0].b }

// Free frees every member; it may be called more than once.
func (e *Ensemble) Free() {
	for _, m := range e.Members {
		m.Free()
	}
}

// check refuses an ensemble whose members do not agree.
func (e *Ensemble) check() error {
	if len(e.Members) == 0 {
		return fmt.Errorf("nn: an ensemble of no models")
	}
	m0 := e.Members[0]
	for k, m := range e.Members[1:] {
		switch {
		case !reflect.DeepEqual(m.Spec, m0.Spec):
			return fmt.Errorf("nn: ensemble member %d is %v, member 0 %v", k+1, m.Spec, m0.Spec)
		case !reflect.DeepEqual(m.Scaling, m0.Scaling):
			return fmt.Errorf("nn: ensemble member %d's scaling differs from member 0's", k+1)
		case !reflect.DeepEqual(m.Table, m0.Table):
			return fmt.Errorf("nn: ensemble member %d's table encoding differs from member 0's", k+1)
		}
	}
	return nil
}

// Checkpoint returns the bytes Save writes. An ensemble of 1 is written as
// its member's own checkpoint (Model.Checkpoint).
func (e *Ensemble) Checkpoint() ([]byte, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	if len(e.Members) == 1 {
		return e.Members[0].Checkpoint()
	}
	m0 := e.Members[0]
	m0.live()
	dt := safetensors.F32
	if m0.b.Info().Precision == "float64" {
		dt = safetensors.F64
	}
	var (
		all  []safetensors.Tensor
		meta map[string]string
		ej   = ensembleJSON{Members: len(e.Members)}
	)
	for k, m := range e.Members {
		m.live()
		ts, mm, err := m.checkpoint(dt, false)
		if err != nil {
			return nil, fmt.Errorf("nn: ensemble member %d: %w", k, err)
		}
		if k == 0 {
			meta = mm
		}
		for _, t := range ts {
			t.Name = MemberPrefix(k) + t.Name
			all = append(all, t)
		}
		ej.Training = append(ej.Training, m.Info)
	}
	b, err := json.Marshal(ej)
	if err != nil {
		return nil, fmt.Errorf("nn: encoding the ensemble: %w", err)
	}
	meta[MetaEnsemble] = string(b)
	name := fmt.Sprintf("ensemble of %d × %v", len(e.Members), m0.Spec)
	out, err := safetensors.Encode(name, all, meta)
	if err != nil {
		return nil, fmt.Errorf("nn: encoding the %s: %w", name, err)
	}
	return out, nil
}

// Save writes e to path atomically, as Model.Save does: for more than one
// member, member k's tensors are named with MemberPrefix(k), the metadata
// are member 0's (spec, scaling, training info, table) and MetaEnsemble; an
// ensemble of 1 is written exactly as its member's Save writes it.
func (e *Ensemble) Save(path string) error {
	b, err := e.Checkpoint()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(path, b); err != nil {
		return fmt.Errorf("nn: saving the ensemble: safetensors: %s: %w", path, err)
	}
	return nil
}

// LoadEnsemble reads a checkpoint written by Ensemble.Save or Model.Save
// (an ensemble of 1) and builds its members on b. It validates the file as
// Load does (every member's tensors in the spec's shapes, no stray tensor,
// every value finite); errors name the file and the tensor at fault.
func LoadEnsemble(path string, b backend.Backend) (*Ensemble, error) {
	f, base, err := readModel(path)
	if err != nil {
		return nil, err
	}
	if base.ens == nil {
		m, err := Load(path, b)
		if err != nil {
			return nil, err
		}
		return &Ensemble{Members: []*Model{m}}, nil
	}
	e := &Ensemble{}
	for k := range base.ens.Members {
		m := &Model{Spec: base.Spec, Scaling: base.Scaling, Info: base.ens.Training[k], Table: base.Table, b: b}
		m.Spec.Hidden = append([]int(nil), base.Spec.Hidden...)
		if err := m.alloc(); err != nil {
			e.Free()
			return nil, err
		}
		e.Members = append(e.Members, m)
		if err := m.SetParams(m.paramsFrom(f, MemberPrefix(k))); err != nil {
			e.Free()
			return nil, fmt.Errorf("nn: ensemble member %d: %w (in %s)", k, err, path)
		}
	}
	return e, nil
}

// Predict averages the members' predictions of s (Model.Predict): member
// by member in order, the sum divided by the count; a classifier's classes
// are those of the averaged probabilities.
func (e *Ensemble) Predict(s *Set, batch int) (Predictions, error) {
	if err := e.check(); err != nil {
		return Predictions{}, err
	}
	if len(e.Members) == 1 {
		return e.Members[0].Predict(s, batch)
	}
	var avg Predictions
	for k, m := range e.Members {
		p, err := m.Predict(s, batch)
		if err != nil {
			return Predictions{}, fmt.Errorf("nn: ensemble member %d: %w", k, err)
		}
		if k == 0 {
			avg.Outputs = p.Outputs
			continue
		}
		for i, row := range p.Outputs {
			for j, v := range row {
				avg.Outputs[i][j] += v
			}
		}
	}
	n := float64(len(e.Members))
	for _, row := range avg.Outputs {
		for j := range row {
			row[j] /= n
		}
	}
	if e.Spec().Head.Classifies() {
		avg.Classes = make([]int, len(avg.Outputs))
		for i, o := range avg.Outputs {
			avg.Classes[i] = classOf(o)
		}
	}
	return avg, nil
}

// Evaluate is Model.Evaluate for the averaged predictions: the mean loss of
// the averaged probabilities (cross-entropy; a probability of 0 counts as
// the smallest positive float) or, for a regression, of the averaged
// outputs in the model's units (the mean squared error of standardised
// targets), and the accuracy of the averaged classes. An ensemble of 1 is
// its member's Evaluate.
func (e *Ensemble) Evaluate(s *Set, batch int) (Metrics, error) {
	if err := e.check(); err != nil {
		return Metrics{}, err
	}
	if len(e.Members) == 1 {
		return e.Members[0].Evaluate(s, batch)
	}
	spec := e.Spec()
	if err := checkSet(s, spec, true); err != nil {
		return Metrics{}, err
	}
	p, err := e.Predict(s, batch)
	if err != nil {
		return Metrics{}, err
	}
	mt := Metrics{Accuracy: math.NaN(), Rows: s.Rows}
	var loss float64
	switch spec.Head {
	case RegressionHead:
		sc := e.Members[0].Scaling
		c := spec.Outputs
		for i, row := range p.Outputs {
			var r float64
			for j, v := range row {
				t := s.Labels[i*c+j]
				if sc.HasTargets() {
					v = (v - sc.TargetMean[j]) / sc.TargetStd[j]
					t = (t - sc.TargetMean[j]) / sc.TargetStd[j]
				}
				r += (v - t) * (v - t)
			}
			loss += r / float64(c)
		}
	default:
		right := 0
		for i := range p.Outputs {
			y := int(s.Labels[i])
			loss -= math.Log(math.Max(p.Probs(i)[y], math.SmallestNonzeroFloat64))
			if p.Classes[i] == y {
				right++
			}
		}
		mt.Accuracy = float64(right) / float64(s.Rows)
	}
	mt.Loss = loss / float64(s.Rows)
	return mt, nil
}

// Score is Model.Score for the averaged predictions: Evaluate and, for a
// regression, the errors of the averaged outputs in the targets' units.
func (e *Ensemble) Score(s *Set, batch int) (Score, error) {
	if err := e.check(); err != nil {
		return Score{}, err
	}
	if len(e.Members) == 1 {
		return e.Members[0].Score(s, batch)
	}
	ev, err := e.Evaluate(s, batch)
	if err != nil {
		return Score{Metrics: ev}, err
	}
	sc := Score{Metrics: ev}
	if e.Spec().Head != RegressionHead {
		return sc, nil
	}
	p, err := e.Predict(s, batch)
	if err != nil {
		return sc, err
	}
	rm := regressionMetrics(p.Outputs, s.Labels, e.Spec().Outputs)
	sc.Regression = &rm
	return sc, nil
}

// MembersScore scores every member alone (Model.Score) and returns the
// mean of their figures: what one member scores on average, to set beside
// the ensemble's Score.
func (e *Ensemble) MembersScore(s *Set, batch int) (Score, error) {
	var sum Score
	n := float64(len(e.Members))
	for k, m := range e.Members {
		sc, err := m.Score(s, batch)
		if err != nil {
			return Score{}, fmt.Errorf("nn: ensemble member %d: %w", k, err)
		}
		sum.Loss += sc.Loss / n
		sum.Accuracy += sc.Accuracy / n
		sum.Rows = sc.Rows
		if sc.Regression != nil {
			if sum.Regression == nil {
				sum.Regression = &RegressionMetrics{Rows: sc.Regression.Rows}
			}
			sum.Regression.RMSE += sc.Regression.RMSE / n
			sum.Regression.MAE += sc.Regression.MAE / n
			sum.Regression.R2 += sc.Regression.R2 / n
		}
	}
	return sum, nil
}
