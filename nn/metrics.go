package nn

import (
	"fmt"
	"math"
)

// RegressionMetrics are a regression model's errors on a set, in the
// targets' original units (Predict's outputs against the set's labels).
type RegressionMetrics struct {
	// RMSE is the root mean squared error and MAE the mean absolute error,
	// over every target of every row.
	RMSE, MAE float64
	// R2 is the coefficient of determination, 1 − SS_res/SS_tot with
	// SS_tot around the set's own target mean, averaged over the target
	// columns (as scikit-learn's r2_score); NaN when a column's targets are
	// all equal.
	R2 float64
	// Rows is the number of rows compared.
	Rows int
}

// EvaluateRegression predicts s in chunks of at most batch rows (0: all at
// once) and compares the predictions with s's targets, in original units.
// It returns an error for a model without a RegressionHead, a set that does
// not fit the model or has no targets, and device failures; it panics if m
// was freed.
func (m *Model) EvaluateRegression(s *Set, batch int) (RegressionMetrics, error) {
	m.live()
	if m.Spec.Head != RegressionHead {
		return RegressionMetrics{}, fmt.Errorf("nn: regression metrics need a regression head, model %v has %v", m.Spec, m.Spec.Head)
	}
	if err := checkSet(s, m.Spec, true); err != nil {
		return RegressionMetrics{}, err
	}
	p, err := m.Predict(s, batch)
	if err != nil {
		return RegressionMetrics{}, err
	}
	return regressionMetrics(p.Outputs, s.Labels, m.Spec.Outputs), nil
}

// regressionMetrics compares rows of predictions with the row-major targets
// (cols per row).
func regressionMetrics(pred [][]float64, targets []float64, cols int) RegressionMetrics {
	n := len(pred)
	r := RegressionMetrics{Rows: n}
	var se, ae float64
	mean := make([]float64, cols)
	for i, p := range pred {
		for j, v := range p {
			d := v - targets[i*cols+j]
			se += d * d
			ae += math.Abs(d)
			mean[j] += targets[i*cols+j] / float64(n)
		}
	}
	r.RMSE = math.Sqrt(se / float64(n*cols))
	r.MAE = ae / float64(n*cols)
	for j := range cols {
		var res, tot float64
		for i, p := range pred {
			d := p[j] - targets[i*cols+j]
			res += d * d
			e := targets[i*cols+j] - mean[j]
			tot += e * e
		}
		r2 := math.NaN()
		if tot > 0 {
			r2 = 1 - res/tot
		}
		r.R2 += r2 / float64(cols)
	}
	return r
}
