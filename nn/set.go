package nn

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/data"
)

// Set is the data nn trains on and predicts from: data.Set, Rows rows of
// Cols features each, held either as bytes (images, scaled on the device by
// their PixelScale, e.g. 1/255 or 1/16) or as floats, with Rows·labelCols
// labels (one class index per row for a BinaryHead or SoftmaxHead,
// Spec.Outputs targets per row for a RegressionHead). Sets may also be built directly, e.g. for tests.
type Set = data.Set

// labelCols is the number of label columns a model with spec reads.
func labelCols(spec Spec) int {
	if spec.Head == RegressionHead {
		return spec.Outputs
	}
	return 1
}

// CheckSet reports whether s (with labels) fits a model of spec: its shape,
// and labels that spec's head takes; the error names the set and the row.
func CheckSet(s *Set, spec Spec) error { return checkSet(s, spec, true) }

// checkSet validates s (data.Set.Validate) and checks it against spec:
// its width, and labels that spec's head reads; labels are optional when
// needLabels is false.
func checkSet(s *Set, spec Spec, needLabels bool) error {
	if s == nil {
		return fmt.Errorf("nn: nil data set")
	}
	name := s.Name
	if name == "" {
		name = "data set"
	}
	if s.Rows < 1 {
		return fmt.Errorf("nn: %s has no rows", name)
	}
	if s.Cols != spec.Inputs {
		return fmt.Errorf("nn: %s has %d features per row, model %v wants %d", name, s.Cols, spec, spec.Inputs)
	}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("nn: %w", err)
	}
	if !needLabels && s.Labels == nil {
		return nil
	}
	lc := labelCols(spec)
	if len(s.Labels) != s.Rows*lc {
		return fmt.Errorf("nn: %s has %d labels for %d rows (want %d per row for a %v head)", name, len(s.Labels), s.Rows, lc, spec.Head)
	}
	for i, v := range s.Labels {
		switch spec.Head {
		case BinaryHead:
			if v != 0 && v != 1 {
				return fmt.Errorf("nn: %s label %d is %v, a binary head wants 0 or 1", name, i, v)
			}
		case SoftmaxHead:
			if v != math.Trunc(v) || v < 0 || int(v) >= spec.Outputs {
				return fmt.Errorf("nn: %s label %d is %v, a softmax head with %d outputs wants a class in 0..%d", name, i, v, spec.Outputs, spec.Outputs-1)
			}
		default:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("nn: %s target %d is %v", name, i, v)
			}
		}
	}
	return nil
}

// FitScaling computes the standardisation of s: the mean and standard
// deviation (population) of every feature column of a float set (nil for a
// pixel set, which is scaled by its PixelScale instead) and, for a
// RegressionHead, of every target column. A zero standard deviation is
// replaced by 1, so a constant column maps to 0. It returns an error when s
// does not fit spec, and when a column's mean or standard deviation
// overflows the float64 range (values too far apart to standardise, e.g.
// one of 1e160 among ordinary ones), naming the column and its largest value.
func FitScaling(s *Set, spec Spec) (Scaling, error) {
	if err := checkSet(s, spec, spec.Head == RegressionHead); err != nil {
		return Scaling{}, err
	}
	var sc Scaling
	var err error
	if s.Pixels == nil {
		if sc.FeatureMean, sc.FeatureStd, err = colStats(s.Features, s.Rows, s.Cols); err != nil {
			return Scaling{}, fmt.Errorf("nn: %s: feature %s", s.Name, columnName(err.(*spreadError), s.FeatureNames))
		}
	}
	if spec.Head == RegressionHead {
		if sc.TargetMean, sc.TargetStd, err = colStats(s.Labels, s.Rows, spec.Outputs); err != nil {
			return Scaling{}, fmt.Errorf("nn: %s: target %s", s.Name, columnName(err.(*spreadError), s.TargetNames))
		}
	}
	return sc, nil
}

// spreadError is colStats's report of a column whose statistics overflow.
type spreadError struct {
	col     int
	largest float64
}

func (e *spreadError) Error() string { return fmt.Sprintf("column %d", e.col) }

// columnName describes the column of e, by name when names has it.
func columnName(e *spreadError, names []string) string {
	name := fmt.Sprintf("column %d", e.col)
	if e.col < len(names) {
		name = fmt.Sprintf("%d (%q)", e.col, names[e.col])
	}
	return fmt.Sprintf("%s: its standard deviation overflows the float64 range (its largest magnitude is %v): the values are too far apart to standardise", name, e.largest)
}

// colStats returns the mean and population standard deviation (divided by
// rows, not rows-1: the scaling standardises the very rows it was fitted on)
// of each of the cols columns of the row-major rows×cols matrix x, computed
// by gonum's stat.PopMeanStdDev. A standard deviation of zero is replaced by
// 1, so a constant column maps to 0; one that is not finite is a
// *spreadError.
func colStats(x []float64, rows, cols int) (mean, std []float64, err error) {
	mean = make([]float64, cols)
	std = make([]float64, cols)
	col := make([]float64, rows)
	for j := range cols {
		for i := range rows {
			col[i] = x[i*cols+j]
		}
		mean[j], std[j] = stat.PopMeanStdDev(col, nil)
		if math.IsNaN(mean[j]) || math.IsInf(mean[j], 0) || math.IsNaN(std[j]) || math.IsInf(std[j], 0) {
			largest := 0.0
			for _, v := range col {
				largest = max(largest, math.Abs(v))
			}
			return nil, nil, &spreadError{col: j, largest: largest}
		}
		if !(std[j] > 0) {
			std[j] = 1
		}
	}
	return mean, std, nil
}

// upload puts s on the device: x (Rows×Cols, Byte for pixels or Float with
// m's feature scaling applied) and, if s has labels, t (Rows×labelCols,
// Float, with m's target scaling applied). gatherScale is the scale Gather
// must apply to x. The caller frees through a.
func (m *Model) upload(a *allocator, s *Set) (x, t backend.Tensor, gatherScale float64, err error) {
	b := m.b
	gatherScale = 1
	if s.Pixels != nil && m.Scaling.HasFeatures() {
		return nil, nil, 0, fmt.Errorf("nn: %s holds pixels but the model standardises float features", s.Name)
	}
	if s.Pixels != nil {
		x = a.new(s.Rows, s.Cols, backend.Byte)
		gatherScale = s.PixelScale()
	} else {
		x = a.new(s.Rows, s.Cols, backend.Float)
	}
	lc := labelCols(m.Spec)
	if s.Labels != nil {
		t = a.new(s.Rows, lc, backend.Float)
	}
	if a.err != nil {
		return nil, nil, 0, fmt.Errorf("nn: uploading %s: %w", s.Name, a.err)
	}
	if s.Pixels != nil {
		err = b.WriteBytes(x, s.Pixels)
	} else {
		f := s.Features
		if sc := m.Scaling; sc.HasFeatures() {
			f = make([]float64, len(s.Features))
			for i, v := range s.Features {
				j := i % s.Cols
				f[i] = (v - sc.FeatureMean[j]) / sc.FeatureStd[j]
			}
		}
		err = b.WriteFloats(x, f)
	}
	if err != nil {
		return nil, nil, 0, fmt.Errorf("nn: uploading the features of %s: %w", s.Name, err)
	}
	if t != nil {
		l := s.Labels
		if sc := m.Scaling; sc.HasTargets() {
			l = make([]float64, len(s.Labels))
			for i, v := range s.Labels {
				j := i % lc
				l[i] = (v - sc.TargetMean[j]) / sc.TargetStd[j]
			}
		}
		if err := b.WriteFloats(t, l); err != nil {
			return nil, nil, 0, fmt.Errorf("nn: uploading the labels of %s: %w", s.Name, err)
		}
	}
	return x, t, gatherScale, nil
}
