package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/internal/atomicfile"
	"github.com/gputrain/gputrain/safetensors"
	"github.com/gputrain/gputrain/table"
)

// Checkpoint metadata keys. Each value is a JSON document.
const (
	// MetaFormat names the checkpoint layout; its value is CheckpointFormat.
	MetaFormat = "format"
	// MetaSpec holds the Spec: {"inputs", "hidden", "outputs",
	// "activation", "head", "init"} with names as strings.
	MetaSpec = "spec"
	// MetaScaling holds the Scaling: {"feature_mean", "feature_std",
	// "target_mean", "target_std"}, absent parts omitted.
	MetaScaling = "scaling"
	// MetaTraining holds the TrainInfo: epoch, step, optimizer, lr, seed,
	// shuffle_seed, data, subset (the classes of the data set it was
	// trained on, when not all), and validation (the ValidationInfo: fraction,
	// seed, rows, patience, best_epoch, best_loss, epochs_since_best,
	// stopped_early) when training had a validation set.
	MetaTraining = "training"
	// MetaTable holds the Table encoding of a model trained on a CSV table
	// (table.Encoder as JSON: target, target_kind, task, na, columns
	// with their kinds, fill values and categories, classes); absent
	// otherwise.
	MetaTable = "table"
)

// CheckpointFormat is the value of MetaFormat in checkpoints nn writes.
const CheckpointFormat = "gputrain-mlp-v1"

// WeightName and BiasName return the checkpoint names of layer i's
// parameters: "layers.{i}.weight" (stored out×in, as torch.nn.Linear keeps
// it) and "layers.{i}.bias" (shape [out]).
func WeightName(i int) string { return fmt.Sprintf("layers.%d.weight", i) }

// BiasName returns the checkpoint name of layer i's bias; see WeightName.
func BiasName(i int) string { return fmt.Sprintf("layers.%d.bias", i) }

// specJSON is the checkpoint form of Spec.
type specJSON struct {
	Inputs     int    `json:"inputs"`
	Hidden     []int  `json:"hidden"`
	Outputs    int    `json:"outputs"`
	Activation string `json:"activation"`
	Head       string `json:"head"`
	Init       string `json:"init"`
}

type scalingJSON struct {
	FeatureMean []float64 `json:"feature_mean,omitempty"`
	FeatureStd  []float64 `json:"feature_std,omitempty"`
	TargetMean  []float64 `json:"target_mean,omitempty"`
	TargetStd   []float64 `json:"target_std,omitempty"`
}

func shapeString(s []int) string {
	p := make([]string, len(s))
	for i, v := range s {
		p[i] = fmt.Sprint(v)
	}
	return "[" + strings.Join(p, " ") + "]"
}

// checkpoint reads m's parameters (the best epoch's during a Train call
// with early stopping) and describes them for a file, stored as dt; with
// withOpt, beside its optimizer state (see currentOptState).
func (m *Model) checkpoint(dt safetensors.DType, withOpt bool) ([]safetensors.Tensor, map[string]string, error) {
	ps, err := m.savedParams()
	if err != nil {
		return nil, nil, err
	}
	if err := checkFiniteParams(ps); err != nil {
		return nil, nil, fmt.Errorf("nn: refusing to save a model with a %w", err)
	}
	ts := make([]safetensors.Tensor, 0, 2*len(ps))
	for i, p := range ps {
		wt := make([]float64, len(p.W)) // out×in
		for r := range p.In {
			for c := range p.Out {
				wt[c*p.In+r] = p.W[r*p.Out+c]
			}
		}
		ts = append(ts,
			safetensors.Tensor{Name: WeightName(i), Shape: []int{p.Out, p.In}, DType: dt, Data: wt},
			safetensors.Tensor{Name: BiasName(i), Shape: []int{p.Out}, DType: dt, Data: p.B})
	}
	s := m.Spec
	sj, err := json.Marshal(specJSON{Inputs: s.Inputs, Hidden: append([]int{}, s.Hidden...), Outputs: s.Outputs,
		Activation: s.Activation.String(), Head: s.Head.String(), Init: s.Init.String()})
	if err != nil {
		return nil, nil, fmt.Errorf("nn: encoding the spec: %w", err)
	}
	sc := m.Scaling
	scj, err := json.Marshal(scalingJSON{sc.FeatureMean, sc.FeatureStd, sc.TargetMean, sc.TargetStd})
	if err != nil {
		return nil, nil, fmt.Errorf("nn: encoding the scaling: %w", err)
	}
	var st *optState
	if withOpt {
		if st, err = m.currentOptState(); err != nil {
			return nil, nil, err
		}
	}
	info := m.Info
	info.OptimizerState = ""
	if st != nil {
		if err := checkFiniteState(st); err != nil {
			return nil, nil, fmt.Errorf("nn: refusing to save a model whose optimizer state holds a %w", err)
		}
		info.OptimizerState = st.kind.String()
		ts = append(ts, m.optTensors(st, dt)...)
	}
	tj, err := json.Marshal(info)
	if err != nil {
		return nil, nil, fmt.Errorf("nn: encoding the training info: %w", err)
	}
	meta := map[string]string{
		MetaFormat:   CheckpointFormat,
		MetaSpec:     string(sj),
		MetaScaling:  string(scj),
		MetaTraining: string(tj),
	}
	if m.Table != nil {
		if err := checkTable(m.Table, m.Spec); err != nil {
			return nil, nil, err
		}
		tb, err := json.Marshal(m.Table)
		if err != nil {
			return nil, nil, fmt.Errorf("nn: encoding the table encoding: %w", err)
		}
		meta[MetaTable] = string(tb)
	}
	return ts, meta, nil
}

// specFromMeta decodes the spec, scaling and training info of a checkpoint.
func specFromMeta(meta map[string]string) (Spec, Scaling, TrainInfo, error) {
	var (
		spec Spec
		sc   Scaling
		info TrainInfo
	)
	if f, ok := meta[MetaFormat]; !ok || f != CheckpointFormat {
		return spec, sc, info, fmt.Errorf("nn: checkpoint format %q, want %q", f, CheckpointFormat)
	}
	var sj specJSON
	if err := json.Unmarshal([]byte(meta[MetaSpec]), &sj); err != nil {
		return spec, sc, info, fmt.Errorf("nn: checkpoint spec %q: %w", meta[MetaSpec], err)
	}
	act, err := backend.ParseActivation(sj.Activation)
	if err != nil {
		return spec, sc, info, fmt.Errorf("nn: checkpoint spec: %w", err)
	}
	head, err := ParseHead(sj.Head)
	if err != nil {
		return spec, sc, info, fmt.Errorf("nn: checkpoint spec: %w", err)
	}
	init := InitAuto
	if sj.Init != "" {
		if init, err = ParseInit(sj.Init); err != nil {
			return spec, sc, info, fmt.Errorf("nn: checkpoint spec: %w", err)
		}
	}
	if len(sj.Hidden) == 0 {
		sj.Hidden = nil
	}
	spec = Spec{Inputs: sj.Inputs, Hidden: sj.Hidden, Outputs: sj.Outputs, Activation: act, Head: head, Init: init}
	if err := spec.Validate(); err != nil {
		return spec, sc, info, fmt.Errorf("nn: checkpoint spec: %w", err)
	}
	if s := meta[MetaScaling]; s != "" {
		var scj scalingJSON
		if err := json.Unmarshal([]byte(s), &scj); err != nil {
			return spec, sc, info, fmt.Errorf("nn: checkpoint scaling %q: %w", s, err)
		}
		sc = Scaling{scj.FeatureMean, scj.FeatureStd, scj.TargetMean, scj.TargetStd}
		if err := sc.validate(spec); err != nil {
			return spec, sc, info, fmt.Errorf("nn: checkpoint scaling: %w", err)
		}
	}
	if s := meta[MetaTraining]; s != "" {
		if err := json.Unmarshal([]byte(s), &info); err != nil {
			return spec, sc, info, fmt.Errorf("nn: checkpoint training info %q: %w", s, err)
		}
		if err := info.validate(); err != nil {
			return spec, sc, info, fmt.Errorf("nn: checkpoint training info: %w", err)
		}
	}
	return spec, sc, info, nil
}

// tableFromMeta decodes the table encoding of a checkpoint, nil when it has
// none, and checks it against spec.
func tableFromMeta(meta map[string]string, spec Spec) (*table.Encoder, error) {
	s, ok := meta[MetaTable]
	if !ok {
		return nil, nil
	}
	var enc table.Encoder
	if err := json.Unmarshal([]byte(s), &enc); err != nil {
		return nil, fmt.Errorf("nn: checkpoint table encoding: %w", err)
	}
	if err := checkTable(&enc, spec); err != nil {
		return nil, fmt.Errorf("nn: checkpoint table encoding: %w", err)
	}
	return &enc, nil
}

// checkTable checks that enc is valid and produces what spec takes: Inputs
// inputs, and a target its head predicts.
func checkTable(enc *table.Encoder, spec Spec) error {
	if err := enc.Validate(); err != nil {
		return err
	}
	if w := enc.Width(); w != spec.Inputs {
		return fmt.Errorf("nn: the table encoding makes %d inputs, model %v takes %d", w, spec, spec.Inputs)
	}
	ok := false
	switch enc.Task {
	case table.TaskClassify:
		n := len(enc.Classes)
		ok = spec.Head == BinaryHead && n == 2 || spec.Head == SoftmaxHead && spec.Outputs == n
	case table.TaskRegress:
		ok = spec.Head == RegressionHead && spec.Outputs == 1
	}
	if !ok {
		return fmt.Errorf("nn: the table encoding's target %q (%v, %d classes) does not fit model %v", enc.Target, enc.Task, len(enc.Classes), spec)
	}
	return nil
}

// checkTensors checks f's tensors against spec before anything is
// allocated from spec: every layer's weight and bias in the shapes spec
// gives, no other tensor, and every value finite. safetensors.Read has
// already checked that each tensor's data matches its shape, so a spec that
// passes describes no more parameters than the file holds.
func checkTensors(f *safetensors.File, spec Spec) error {
	return checkMembers(f, spec, []string{""})
}

// optimizerPrefixes are the tensor prefixes of the optimizer state f's
// metadata says it holds (see OptimizerTensorName), none if it holds none.
func optimizerPrefixes(f *safetensors.File) ([]string, error) {
	o, ok, err := metaOptimizer(f.Metadata)
	if err != nil || !ok {
		return nil, err
	}
	var pre []string
	for _, n := range OptimizerStateNames(o) {
		pre = append(pre, OptimizerTensorName(n, ""))
	}
	return pre, nil
}

// checkMembers is checkTensors for the members of a checkpoint whose
// tensors are named with prefixes (one per member, "" for a single
// model): every member's layers in spec's shapes, no other tensor, and
// every value finite. Errors name the tensor in full.
func checkMembers(f *safetensors.File, spec Spec, prefixes []string) error {
	if len(prefixes) == 1 && prefixes[0] == "" {
		opt, err := optimizerPrefixes(f)
		if err != nil {
			return err
		}
		prefixes = append(prefixes, opt...)
	}
	sz := spec.Sizes()
	layers := len(sz) - 1
	for _, pre := range prefixes {
		for i := range layers {
			in, out := sz[i], sz[i+1]
			wn, bn := pre+WeightName(i), pre+BiasName(i)
			w := f.Tensor(wn)
			if w == nil {
				return fmt.Errorf("nn: checkpoint has no tensor %s (model %v)", wn, spec)
			}
			if len(w.Shape) != 2 || w.Shape[0] != out || w.Shape[1] != in {
				return fmt.Errorf("nn: checkpoint tensor %s has shape %s, model %v wants %s (out×in)",
					wn, shapeString(w.Shape), spec, shapeString([]int{out, in}))
			}
			bias := f.Tensor(bn)
			if bias == nil {
				return fmt.Errorf("nn: checkpoint has no tensor %s (model %v)", bn, spec)
			}
			if len(bias.Shape) != 1 || bias.Shape[0] != out {
				return fmt.Errorf("nn: checkpoint tensor %s has shape %s, model %v wants %s",
					bn, shapeString(bias.Shape), spec, shapeString([]int{out}))
			}
		}
	}
	// Every tensor must belong to a layer of the model: a stray one means
	// the file is of another model (or was edited), and is not ignored.
	if len(f.Tensors) != 2*layers*len(prefixes) {
		known := map[string]bool{}
		for _, pre := range prefixes {
			for i := range layers {
				known[pre+WeightName(i)], known[pre+BiasName(i)] = true, true
			}
		}
		for _, t := range f.Tensors {
			if !known[t.Name] {
				what := fmt.Sprintf("the %d layers of model %v", layers, spec)
				if len(prefixes) > 1 || prefixes[0] != "" {
					what = fmt.Sprintf("the %d members of %d layers of model %v", len(prefixes), layers, spec)
				}
				return fmt.Errorf("nn: checkpoint tensor %s (shape %s) is not a parameter of %s",
					t.Name, shapeString(t.Shape), what)
			}
		}
	}
	// A model is finite or refused: a NaN or infinite weight would make
	// every prediction NaN, silently.
	for _, t := range f.Tensors {
		for k, v := range t.Data {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				at := fmt.Sprintf("[%d]", k)
				if len(t.Shape) == 2 && t.Shape[1] > 0 {
					at = fmt.Sprintf("[%d,%d]", k/t.Shape[1], k%t.Shape[1])
				}
				return fmt.Errorf("nn: checkpoint tensor %s holds %v at %s: %w; the file is damaged or was saved from a diverged run", t.Name, v, at, errNonFinite)
			}
		}
	}
	return nil
}

// heldValues counts the values of f's parameter tensors (not the
// optimizer's state).
func heldValues(f *safetensors.File) int {
	n := 0
	for _, t := range f.Tensors {
		if !strings.HasPrefix(t.Name, "optimizer.") {
			n += len(t.Data)
		}
	}
	return n
}

// setFromCheckpoint validates f's tensors against m.Spec (checkTensors)
// and uploads them.
func (m *Model) setFromCheckpoint(f *safetensors.File) error {
	if err := checkTensors(f, m.Spec); err != nil {
		return err
	}
	if err := m.SetParams(m.paramsFrom(f, "")); err != nil {
		return err
	}
	m.dropOptState()
	if o, ok, _ := metaOptimizer(f.Metadata); ok {
		m.optState = m.optStateFrom(f, o)
	}
	return nil
}

// paramsFrom converts the checked tensors of f named with prefix (see
// checkMembers) to m's parameters.
func (m *Model) paramsFrom(f *safetensors.File, prefix string) []Params {
	ps := make([]Params, len(m.layers))
	for i, l := range m.layers {
		w, bias := f.Tensor(prefix+WeightName(i)), f.Tensor(prefix+BiasName(i))
		p := Params{In: l.in, Out: l.out, W: make([]float64, l.in*l.out), B: bias.Data}
		for r := range l.out {
			for c := range l.in {
				p.W[c*l.out+r] = w.Data[r*l.in+c]
			}
		}
		ps[i] = p
	}
	return ps
}

// Save writes m to path as a safetensors file, atomically: tensors
// "layers.{i}.weight" (out×in, the transpose of the in×out weights nn keeps)
// and "layers.{i}.bias" ([out]), which PyTorch loads with
// load_state_dict into a module holding a ModuleList (or a Sequential of
// only Linear layers) named "layers", applying the activation between them
// in forward (keeping the "layers." tensors: the file also holds the
// optimizer's state, "optimizer.{name}.layers.{i}.weight" and ".bias" as
// OptimizerStateNames names it, when the model keeps one); and metadata
// (see MetaSpec, MetaScaling, MetaTraining, MetaTable). Values
// are stored as F32, or F64 when the backend computes in float64. It refuses
// to save non-finite parameters, and returns device and file errors; the file
// is written to a temporary file in the same folder and renamed over path
// (internal/atomicfile), so on any error path keeps its previous content.
// It panics if m was freed.
func (m *Model) Save(path string) error {
	b, err := m.Checkpoint()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(path, b); err != nil {
		return fmt.Errorf("nn: saving %v: safetensors: %s: %w", m.Spec, path, err)
	}
	return nil
}

// Checkpoint returns the bytes Save writes: m's parameters (during a Train
// call with early stopping, the best epoch's) and metadata in safetensors
// form, e.g. to hold a state in memory and write it later. It refuses
// non-finite parameters, as Save does, and returns device errors. It panics
// if m was freed.
func (m *Model) Checkpoint() ([]byte, error) {
	m.live()
	dt := safetensors.F32
	if m.b.Info().Precision == "float64" {
		dt = safetensors.F64
	}
	ts, meta, err := m.checkpoint(dt, true)
	if err != nil {
		return nil, err
	}
	b, err := safetensors.Encode(m.Spec.String(), ts, meta)
	if err != nil {
		return nil, fmt.Errorf("nn: encoding %v: %w", m.Spec, err)
	}
	return b, nil
}

// Load reads a checkpoint written by Save and builds its model on b, with
// the spec, scaling, training info and table encoding from its metadata. A tensor whose shape
// does not match the spec is an error naming the tensor and both shapes.
// The file is validated by safetensors.Read: a damaged or hostile file is an
// error naming the file and the field or tensor at fault, and never causes
// an allocation larger than the file.
func Load(path string, b backend.Backend) (*Model, error) {
	f, m, err := readModel(path)
	if err != nil {
		return nil, err
	}
	if m.ens != nil {
		return nil, fmt.Errorf("nn: %s holds an ensemble of %d models (%v): load it with LoadEnsemble", path, m.ens.Members, m.Spec)
	}
	m.b = b
	if err := m.alloc(); err != nil {
		return nil, err
	}
	if err := m.setFromCheckpoint(f); err != nil {
		m.Free()
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return m, nil
}

// LoadParams replaces m's parameters with those of the checkpoint at path,
// keeping m's Spec and taking the checkpoint's Scaling, Info and Table, e.g. to
// resume training a model built from command-line flags. A tensor whose shape
// does not match m.Spec is an error naming the tensor and both shapes, and
// leaves m unchanged. It panics if m was freed.
func (m *Model) LoadParams(path string) error {
	m.live()
	f, err := readCheckpoint(path)
	if err != nil {
		return err
	}
	if err := m.setFromCheckpoint(f); err != nil {
		return fmt.Errorf("%w (in %s)", err, path)
	}
	if _, sc, info, err := specFromMeta(f.Metadata); err == nil && sc.validate(m.Spec) == nil {
		m.Scaling, m.Info = sc, info
	}
	if table, err := tableFromMeta(f.Metadata, m.Spec); err == nil && table != nil {
		m.Table = table
	}
	return nil
}

// readCheckpoint reads the safetensors file at path; its errors name path
// (safetensors errors and *os.PathError both do).
func readCheckpoint(path string) (*safetensors.File, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, fmt.Errorf("nn: loading checkpoint: %w", err)
	}
	return f, nil
}

// savedParams returns the parameters Save writes: m's, or during a Train
// call with early stopping the best epoch's copy of them.
func (m *Model) savedParams() ([]Params, error) {
	if m.best == nil {
		return m.Params()
	}
	r, err := backend.ReadAll(m.b, m.best...) // one wait for every layer's
	if err != nil {
		return nil, fmt.Errorf("nn: reading the best epoch's parameters: %w", err)
	}
	ps := make([]Params, len(m.layers))
	for i, l := range m.layers {
		ps[i] = Params{In: l.in, Out: l.out, W: r[2*i], B: r[2*i+1]}
	}
	return ps, nil
}

// LoadInfo reads the spec, training info and table encoding (nil when the
// model was not trained on a table; checked against the spec) of the
// checkpoint at path without building the model: e.g. to check a command
// line against it, or to encode a table, before any work. Errors are
// Load's.
func LoadInfo(path string) (Spec, TrainInfo, *table.Encoder, error) {
	_, m, err := readModel(path)
	if err != nil {
		return Spec{}, TrainInfo{}, nil, err
	}
	return m.Spec, m.Info, m.Table, nil
}

// readModel reads the checkpoint at path and decodes its metadata into a
// model without a backend or parameters.
func readModel(path string) (*safetensors.File, *Model, error) {
	f, err := readCheckpoint(path)
	if err != nil {
		return nil, nil, err
	}
	spec, sc, info, err := specFromMeta(f.Metadata)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (in %s)", err, path)
	}
	ens, err := ensembleFromMeta(f.Metadata, f)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (in %s)", err, path)
	}
	prefixes := []string{""}
	if ens != nil {
		prefixes = memberPrefixes(ens.Members)
	}
	// The spec sizes what Load allocates: it is checked against the tensors
	// the file holds first, so that metadata claiming huge layers is refused
	// before any memory is asked for.
	if err := checkMembers(f, spec, prefixes); err != nil {
		if n, ok := spec.ParamCount(); !ok || n*len(prefixes) != heldValues(f) {
			claim := "more than can be counted"
			if ok {
				claim = fmt.Sprintf("%d", n*len(prefixes))
			}
			return nil, nil, fmt.Errorf("%w; the metadata's model %v claims %s parameters, the file holds %d values (in %s)",
				err, spec, claim, heldValues(f), path)
		}
		return nil, nil, fmt.Errorf("%w (in %s)", err, path)
	}
	table, err := tableFromMeta(f.Metadata, spec)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return f, &Model{Spec: spec, Scaling: sc, Info: info, Table: table, ens: ens}, nil
}

// validate rejects training info no run can have written: negative counts.
func (info TrainInfo) validate() error {
	bad := func(field string, v int) error {
		return fmt.Errorf("%s is %d, want 0 or more", field, v)
	}
	switch {
	case info.Epoch < 0:
		return bad("epoch", info.Epoch)
	case info.Step < 0:
		return bad("step", info.Step)
	}
	if info.Schedule != nil {
		if err := info.Schedule.validate(); err != nil {
			return err
		}
	}
	if v := info.Validation; v != nil {
		switch {
		case v.Rows < 0:
			return bad("validation.rows", v.Rows)
		case v.Patience < 0:
			return bad("validation.patience", v.Patience)
		case v.BestEpoch < 0 || v.BestEpoch > info.Epoch:
			return fmt.Errorf("validation.best_epoch is %d, want 0 to the epoch, %d", v.BestEpoch, info.Epoch)
		case v.SinceBest < 0:
			return bad("validation.epochs_since_best", v.SinceBest)
		case !(v.Fraction >= 0 && v.Fraction < 1):
			return fmt.Errorf("validation.fraction is %v, want a fraction in [0, 1)", v.Fraction)
		}
	}
	return nil
}
