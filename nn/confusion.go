package nn

import (
	"fmt"
	"math"
)

// ConfusionMatrix counts a classifier's rows by true class (the row) and
// predicted class (the column): c[i][j] rows of class i were predicted j.
type ConfusionMatrix [][]int

// Confusion counts the rows whose labels (class indices, as a Set holds
// them) and predicted classes (Predictions.Classes) are given, for a model
// of classes classes. It returns an error for a label or a prediction
// outside 0..classes−1, or lists of different lengths.
func Confusion(classes int, labels []float64, predicted []int) (ConfusionMatrix, error) {
	if len(labels) != len(predicted) {
		return nil, fmt.Errorf("nn: confusion matrix of %d labels and %d predictions", len(labels), len(predicted))
	}
	c := make(ConfusionMatrix, classes)
	for i := range c {
		c[i] = make([]int, classes)
	}
	for r, l := range labels {
		t, p := int(l), predicted[r]
		if t < 0 || t >= classes || float64(t) != l || p < 0 || p >= classes {
			return nil, fmt.Errorf("nn: confusion matrix row %d: label %v, prediction %d, want classes 0..%d", r, l, p, classes-1)
		}
		c[t][p]++
	}
	return c, nil
}

// Recall returns each class's recall, the fraction of its rows predicted
// as it: NaN for a class with no rows.
func (c ConfusionMatrix) Recall() []float64 {
	r := make([]float64, len(c))
	for i, row := range c {
		n := 0
		for _, v := range row {
			n += v
		}
		r[i] = math.NaN()
		if n > 0 {
			r[i] = float64(row[i]) / float64(n)
		}
	}
	return r
}

// BalancedAccuracy is the mean recall over the classes that have rows
// (scikit-learn's balanced_accuracy_score): the accuracy each class would
// give if every class had as many rows. NaN when there are no rows.
func (c ConfusionMatrix) BalancedAccuracy() float64 {
	s, n := 0.0, 0
	for _, r := range c.Recall() {
		if !math.IsNaN(r) {
			s += r
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// BalancedClassWeights returns scikit-learn's "balanced" class weights for
// the labels of s, a classification set of classes classes: rows/(classes·
// rows of class c), so that every class weighs as much in the loss; 1 for
// a class without rows.
func BalancedClassWeights(s *Set, classes int) []float64 {
	counts := make([]int, classes)
	for _, l := range s.Labels {
		if c := int(l); c >= 0 && c < classes {
			counts[c]++
		}
	}
	w := make([]float64, classes)
	for c, n := range counts {
		w[c] = 1
		if n > 0 {
			w[c] = float64(len(s.Labels)) / float64(classes*n)
		}
	}
	return w
}

// checkClassWeights checks Config.ClassWeights against spec.
func checkClassWeights(w []float64, spec Spec) error {
	if !spec.Head.Classifies() {
		return fmt.Errorf("nn: class weights need a classifier, not a %v", spec.Head)
	}
	if len(w) != spec.Classes() {
		return fmt.Errorf("nn: %d class weights for a model of %d classes", len(w), spec.Classes())
	}
	for c, v := range w {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("nn: class %d's weight %v, want 0 or a positive finite number", c, v)
		}
	}
	return nil
}
