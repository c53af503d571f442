package nn

import (
	"fmt"
	"math"

	"github.com/gputrain/gputrain/backend"
)

// Metrics is the result of Evaluate.
type Metrics struct {
	// Loss is the mean per-row loss, in the model's units (standardised
	// targets for a regression model with target scaling).
	Loss float64
	// Accuracy is the fraction of rows predicted right; NaN for a
	// RegressionHead.
	Accuracy float64
	// Rows is the number of rows evaluated.
	Rows int
}

// chunks runs fn over s in chunks of at most batch rows (0: all at once),
// after uploading s and laying out the forward buffers. fn records work for
// rows [off, off+w.rows) whose inputs (and targets, if s has labels) are in w.
func (m *Model) chunks(a *allocator, s *Set, batch int, fn func(w *workspace, off int) error) error {
	m.live()
	b := m.b
	if err := m.Scaling.validate(m.Spec); err != nil {
		return err
	}
	n := s.Rows
	if batch <= 0 || batch > n {
		batch = n
	}
	x, t, scale, err := m.upload(a, s)
	if err != nil {
		return err
	}
	ws := m.newWorkspace(a, batch, false)
	idx := a.new(n, 1, backend.Index)
	if a.err != nil {
		return fmt.Errorf("nn: allocating evaluation buffers for %v, batch %d: %w", m.Spec, batch, a.err)
	}
	order := make([]uint32, n)
	for i := range order {
		order[i] = uint32(i)
	}
	if err := b.WriteIndices(idx, order); err != nil {
		return fmt.Errorf("nn: writing the row order: %w", err)
	}
	last := ws.view(b, n-(n-1)/batch*batch)
	for off := 0; off < n; off += batch {
		w := ws
		if off+batch >= n {
			w = last
		}
		b.Gather(w.x, x, idx, off, scale)
		if t != nil {
			b.Gather(w.t, t, idx, off, 1)
		}
		m.forward(w)
		if err := fn(w, off); err != nil {
			return err
		}
	}
	return nil
}

// Evaluate computes the mean loss and the accuracy of m on s, forward only,
// in chunks of at most batch rows (0: the whole set at once). The loss and
// count accumulate on the device and are read once. It returns an error when
// s does not fit m.Spec or has no labels, or the device fails; it panics if m
// was freed.
func (m *Model) Evaluate(s *Set, batch int) (Metrics, error) {
	m.live()
	if err := checkSet(s, m.Spec, true); err != nil {
		return Metrics{}, err
	}
	if err := m.Scaling.validate(m.Spec); err != nil {
		return Metrics{}, err
	}
	a := newAllocator(m.b)
	defer a.free()
	e, err := newEvaluator(a, m, s, batch, 0, "evaluation")
	if err != nil {
		return Metrics{}, err
	}
	e.record()
	classify := m.Spec.Head.Classifies()
	loss, count, _, err := readSums(m.b, e.loss, e.count, classify)
	if err != nil {
		return Metrics{}, fmt.Errorf("nn: reading the evaluation loss: %w", err)
	}
	mt := Metrics{Loss: loss / float64(s.Rows), Accuracy: math.NaN(), Rows: s.Rows}
	if classify {
		mt.Accuracy = count / float64(s.Rows)
	}
	return mt, nil
}

// readSums reads the 1×1 accumulated loss and, for a classifier, the 1×1
// correct count, with one wait for both (backend.ReadAll); count is 0 when
// classify is false.
func readSums(b backend.Backend, lossT, countT backend.Tensor, classify bool, extra ...backend.Tensor) (loss, count float64, ex []float64, err error) {
	ts := []backend.Tensor{lossT}
	if classify {
		ts = append(ts, countT)
	}
	ts = append(ts, extra...)
	v, err := backend.ReadAll(b, ts...)
	if err != nil {
		return 0, 0, nil, err
	}
	if classify {
		count = v[1][0]
	}
	for _, e := range v[len(v)-len(extra):] {
		ex = append(ex, e[0])
	}
	return v[0][0], count, ex, nil
}

// Predictions are a model's answers for a set, on the host.
type Predictions struct {
	// Outputs has one row per example: for a BinaryHead the probability of
	// class 1 (one value), for a SoftmaxHead the C class probabilities, for
	// a RegressionHead the Outputs values in the targets' original units.
	Outputs [][]float64
	// Classes is the predicted class per row (binary: probability > 0.5,
	// softmax: the first most probable class); nil for a RegressionHead.
	Classes []int
}

// Probs returns the class probabilities of row i, one per class, summing
// to 1: [1−p, p] for a BinaryHead's probability p of class 1, the
// outputs of a SoftmaxHead; nil for a RegressionHead (Classes nil).
func (p Predictions) Probs(i int) []float64 {
	if p.Classes == nil {
		return nil
	}
	if o := p.Outputs[i]; len(o) == 1 {
		return []float64{1 - o[0], o[0]}
	}
	return p.Outputs[i]
}

// Predict runs m forward on the features of s (labels are ignored), in
// chunks of at most batch rows (0: all at once), reading each chunk's logits
// back and applying sigmoid or softmax on the host. It returns an error when
// s does not fit m.Spec or the device fails; it panics if m was freed.
func (m *Model) Predict(s *Set, batch int) (Predictions, error) {
	m.live()
	noLabels := *s
	noLabels.Labels = nil
	if err := checkSet(&noLabels, m.Spec, false); err != nil {
		return Predictions{}, err
	}
	a := newAllocator(m.b)
	defer a.free()
	p := Predictions{Outputs: make([][]float64, s.Rows)}
	err := m.chunks(a, &noLabels, batch, func(w *workspace, off int) error {
		z, err := m.b.ReadFloats(m.out(w))
		if err != nil {
			return fmt.Errorf("nn: reading predictions for rows %d..%d: %w", off, off+w.rows-1, err)
		}
		c := m.Spec.Outputs
		for i := range w.rows {
			p.Outputs[off+i] = m.postprocess(z[i*c : (i+1)*c : (i+1)*c])
		}
		return nil
	})
	if err != nil {
		return Predictions{}, err
	}
	if m.Spec.Head.Classifies() {
		p.Classes = make([]int, s.Rows)
		for i, o := range p.Outputs {
			p.Classes[i] = classOf(o)
		}
	}
	return p, nil
}

// PredictRows is Predict for rows of raw (unscaled) float features, each of
// length m.Spec.Inputs.
func (m *Model) PredictRows(x [][]float64, batch int) (Predictions, error) {
	s := &Set{Name: "rows", Rows: len(x), Cols: m.Spec.Inputs}
	s.Features = make([]float64, 0, len(x)*m.Spec.Inputs)
	for i, r := range x {
		if len(r) != m.Spec.Inputs {
			return Predictions{}, fmt.Errorf("nn: row %d has %d features, model %v wants %d", i, len(r), m.Spec, m.Spec.Inputs)
		}
		s.Features = append(s.Features, r...)
	}
	return m.Predict(s, batch)
}

// postprocess maps one row of logits (a fresh slice it may keep) to outputs.
func (m *Model) postprocess(z []float64) []float64 {
	switch m.Spec.Head {
	case BinaryHead:
		z[0] = sigmoid(z[0])
	case SoftmaxHead:
		softmax(z)
	case RegressionHead:
		if sc := m.Scaling; sc.HasTargets() {
			for j := range z {
				z[j] = z[j]*sc.TargetStd[j] + sc.TargetMean[j]
			}
		}
	}
	return z
}

func classOf(p []float64) int {
	if len(p) == 1 {
		if p[0] > 0.5 {
			return 1
		}
		return 0
	}
	best := 0
	for j, v := range p {
		if v > p[best] {
			best = j
		}
	}
	return best
}

// sigmoid is 1/(1+exp(-z)) without overflow.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// softmax replaces z by its softmax in place.
func softmax(z []float64) {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, v)
	}
	var sum float64
	for j, v := range z {
		z[j] = math.Exp(v - mx)
		sum += z[j]
	}
	for j := range z {
		z[j] /= sum
	}
}
