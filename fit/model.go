package fit

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/device"
	"github.com/gputrain/gputrain/gpu"
	"github.com/gputrain/gputrain/internal/atomicfile"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/table"
)

// ErrClosed is returned by the methods of a closed Model.
var ErrClosed = errors.New("fit: model is closed")

// chunk is the most rows predicted or evaluated at once.
const chunk = 1024

// Model is a trained (or loaded) network on its device. Its methods are
// safe for concurrent use: they run one at a time.
type Model struct {
	mu   sync.Mutex
	net  *nn.Model
	b    backend.Backend
	own  bool // b was opened for the model: Close closes it
	hist nn.History
}

// OpenDefault opens the device Train opens when given no Backend: the one
// device.Open picks for "auto", the best hardware GPU, else the CPU
// reference. The caller closes it. Opening it once and passing it in
// Options.Backend lets several models share it.
func OpenDefault() (backend.Backend, error) {
	b, _, err := device.Open("auto", gpu.Options{})
	if err != nil {
		return nil, fmt.Errorf("fit: opening the device: %w", err)
	}
	return b, nil
}

// backendFor returns b, or when b is nil OpenDefault's backend and true:
// the model then owns it.
func backendFor(b backend.Backend) (backend.Backend, bool, error) {
	if b != nil {
		return b, false, nil
	}
	b, err := OpenDefault()
	return b, err == nil, err
}

// Train builds a model for d and trains it on d.Train with opt (nil:
// Defaults(d)): the input width is d.Train's columns, the head and the
// output width are nn.HeadFor(d.Train)'s, and a model of a table keeps
// d.Encoder. It returns an error for invalid data or options (nn.Config's
// rules), a device that cannot be opened, and training's errors (see
// nn.Train: a divergence wraps nn.ErrDiverged), freeing what it opened.
// When ctx is cancelled it returns the model trained so far (consistent,
// it may be saved) with an error wrapping ctx.Err(). It panics if d is nil.
func Train(ctx context.Context, d *Data, opt *Options) (*Model, error) {
	if d.Train == nil {
		return nil, errors.New("fit: no training set (Data.Train is nil)")
	}
	o := Defaults(d)
	if opt != nil {
		o = *opt
	}
	spec := nn.Spec{Inputs: d.Train.Cols, Hidden: o.Hidden, Activation: o.Activation, Init: o.Init}
	spec.Head, spec.Outputs = nn.HeadFor(d.Train)
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	b, own, err := backendFor(o.Backend)
	if err != nil {
		return nil, err
	}
	net, err := nn.NewModel(b, spec, o.Seed)
	if err != nil {
		if own {
			b.Close()
		}
		return nil, fmt.Errorf("fit: %w", err)
	}
	net.Table = d.Encoder
	m := &Model{net: net, b: b, own: own}
	if err := m.train(ctx, d.Train, o); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return m, err
		}
		m.Close()
		return nil, err
	}
	return m, nil
}

// train runs nn.Train with o's hooks and checkpoints.
func (m *Model) train(ctx context.Context, s *data.Set, o Options) error {
	hooks := o.Hooks
	ck := &nn.Checkpointer{}
	if o.Checkpoint != "" {
		path := o.Checkpoint
		ck.Write = func(b []byte, _ int) error {
			if err := atomicfile.WriteBytes(path, b); err != nil {
				return fmt.Errorf("fit: saving the checkpoint: %w", err)
			}
			return nil
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		save := ck.Epoch(m.net, nil, func(error) { cancel() })
		user := hooks.Epoch
		hooks.Epoch = func(st nn.EpochStats) {
			save(st)
			if user != nil {
				user(st)
			}
		}
	}
	hist, err := nn.Train(ctx, m.b, m.net, s, o.Config, hooks)
	m.hist = hist
	if ck.Err() != nil {
		return ck.Err()
	}
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("fit: %w", err)
	}
	if serr := ck.Save(m.net, m.net.Info.Epoch); serr != nil {
		return serr
	}
	if err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	return nil
}

// Load reads a checkpoint written by Model.Save or nn.Model.Save (the
// gputrain command's checkpoints too) onto b; a nil b opens the default device as Train
// does, owned by the Model. It returns nn.Load's errors, wrapped.
func Load(path string, b backend.Backend) (*Model, error) {
	b, own, err := backendFor(b)
	if err != nil {
		return nil, err
	}
	net, err := nn.Load(path, b)
	if err != nil {
		if own {
			b.Close()
		}
		return nil, fmt.Errorf("fit: %w", err)
	}
	return &Model{net: net, b: b, own: own}, nil
}

// Close frees the model and closes the device Train or Load opened for it
// (not a Backend given in Options or to Load). It may be called more than
// once.
func (m *Model) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.net == nil {
		return
	}
	m.net.Free()
	m.net = nil
	if m.own {
		m.b.Close()
	}
}

// Net returns the underlying nn.Model, for what this package does not
// wrap (its Spec, Info, Scaling and Table; nn's prediction on sets); nil
// once m is closed. It is not guarded by m's lock.
func (m *Model) Net() *nn.Model {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.net
}

// History returns what training reported: one entry per epoch (see
// nn.History); empty for a loaded model.
func (m *Model) History() nn.History { return m.hist }

// Classes names the classes of a model trained on a table (the target's
// values, in class-index order); nil for other models.
func (m *Model) Classes() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.net == nil || m.net.Table == nil {
		return nil
	}
	return m.net.Table.Classes
}

// Save writes m as a safetensors checkpoint at path, atomically: what
// Load, nn.Load and gputrain eval and predict read. It returns an error
// for non-finite weights and file system failures.
func (m *Model) Save(path string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.net == nil {
		return ErrClosed
	}
	if err := m.net.Save(path); err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	return nil
}

// Evaluate scores m on s by its head: the mean loss and accuracy of a
// classifier, and for a regression also RMSE, MAE and R² in the target's
// units (see nn.Model.Score). s must have labels and m's input width.
func (m *Model) Evaluate(s *data.Set) (nn.Score, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.net == nil {
		return nn.Score{}, ErrClosed
	}
	sc, err := m.net.Score(s, chunk)
	if err != nil {
		return sc, fmt.Errorf("fit: %w", err)
	}
	return sc, nil
}

// Predictions are a model's answers, one entry per row.
type Predictions struct {
	// Classes holds each row's predicted class (a classifier's; nil for a
	// regression): the most probable, the first on a tie.
	Classes []int
	// Probs holds each row's class probabilities, one per class, summing
	// to 1 (also for a binary classifier: [1−p, p]); nil for a regression.
	Probs [][]float64
	// Values holds each row's predicted value, in the target's units (a
	// regression's; nil for a classifier).
	Values []float64
	// Rows, from PredictTable, holds the table row (from 0) of each
	// prediction: rows skipped for a missing cell are absent. nil from
	// Predict.
	Rows []int
}

// Predict returns m's predictions for the rows of x, each row m's input
// width of raw features, in the units of the training rows (m applies its
// scaling). A model trained on a table takes the encoded inputs here
// (table.Encoder.Encode); give its raw cells to PredictTable. It returns an
// error naming a row of the wrong width, for a regression with more than
// one output, and device errors.
func (m *Model) Predict(x [][]float64) (Predictions, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.net == nil {
		return Predictions{}, ErrClosed
	}
	p, err := m.net.PredictRows(x, chunk)
	if err != nil {
		return Predictions{}, fmt.Errorf("fit: %w", err)
	}
	return m.predictions(p)
}

// PredictTable returns the predictions of a model trained on a table for
// the rows of t, encoded as in training (t's target column may be absent).
// It returns an error for a model without a table encoding and for the
// encoder's errors (a missing column, a bad cell, naming the line).
func (m *Model) PredictTable(t *table.Table) (Predictions, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.net == nil {
		return Predictions{}, ErrClosed
	}
	if m.net.Table == nil {
		return Predictions{}, errors.New("fit: the model was not trained on a table (it has no table encoding): use Predict")
	}
	s, rep, err := m.net.Table.Encode(t, false)
	if err != nil {
		return Predictions{}, fmt.Errorf("fit: %w", err)
	}
	p, err := m.net.Predict(s, chunk)
	if err != nil {
		return Predictions{}, fmt.Errorf("fit: %w", err)
	}
	out, err := m.predictions(p)
	out.Rows = rep.Kept
	return out, err
}

// predictions lays out nn's predictions by head.
func (m *Model) predictions(p nn.Predictions) (Predictions, error) {
	var out Predictions
	switch spec := m.net.Spec; spec.Head {
	case nn.RegressionHead:
		if spec.Outputs != 1 {
			return out, fmt.Errorf("fit: the model predicts %d values per row; use Net().Predict", spec.Outputs)
		}
		out.Values = make([]float64, len(p.Outputs))
		for i, o := range p.Outputs {
			out.Values[i] = o[0]
		}
	default:
		out.Classes = p.Classes
		out.Probs = make([][]float64, len(p.Outputs))
		for i := range p.Outputs {
			out.Probs[i] = p.Probs(i)
		}
	}
	return out, nil
}
