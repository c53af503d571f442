package fit

import (
	"errors"
	"fmt"
	"math"

	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/table"
)

// MaxClasses is the most classes Classification accepts: labels are class
// indices below it.
const MaxClasses = 1 << 16

// Data is what Train learns from.
type Data struct {
	// Train is the training set.
	Train *data.Set
	// Test, if not nil, is a held-out set of the same kind, e.g. for
	// Model.Evaluate.
	Test *data.Set
	// Encoder, for data read from a CSV table, is the encoding of the
	// table's rows into Train's features and labels; nil otherwise. A
	// model trained on the data keeps it (Model.PredictTable uses it).
	Encoder *table.Encoder
}

// Classification returns the data of a classifier: x holds the features,
// one row per example (len(x) rows of len(x[0]) values), labels the class
// of each row, 0..C-1 with C = max(labels)+1. It returns an error naming
// the row (and column) when x is empty, a row's length differs from the
// first's, a value is not finite, len(labels) ≠ len(x), a label is negative
// or at least MaxClasses, or fewer than two distinct labels occur.
func Classification(x [][]float64, labels []int) (*Data, error) {
	s, err := features(x, len(labels), "labels")
	if err != nil {
		return nil, err
	}
	s.Labels = make([]float64, len(labels))
	seen := map[int]bool{}
	for i, l := range labels {
		if l < 0 || l >= MaxClasses {
			return nil, fmt.Errorf("fit: label of row %d is %d, want a class index from 0 to %d", i, l, MaxClasses-1)
		}
		s.Labels[i] = float64(l)
		s.Classes = max(s.Classes, l+1)
		seen[l] = true
	}
	if len(seen) < 2 {
		return nil, fmt.Errorf("fit: every label is %d: a classifier needs at least 2 classes", labels[0])
	}
	return checked(s)
}

// Regression returns the data of a regressor: x holds the features, one
// row per example as for Classification, y the value to predict for each
// row. It returns an error naming the row (and column) when x is empty, a
// row's length differs from the first's, a value of x or y is not finite,
// or len(y) ≠ len(x).
func Regression(x [][]float64, y []float64) (*Data, error) {
	s, err := features(x, len(y), "targets")
	if err != nil {
		return nil, err
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("fit: target of row %d is %v, want a finite number", i, v)
		}
	}
	s.Labels = append([]float64(nil), y...)
	return checked(s)
}

// features returns a set named "rows" holding x, checked, with room for n
// targets per row called what.
func features(x [][]float64, n int, what string) (*data.Set, error) {
	if len(x) == 0 {
		return nil, errors.New("fit: no rows")
	}
	cols := len(x[0])
	if cols == 0 {
		return nil, errors.New("fit: row 0 has no features")
	}
	if n != len(x) {
		return nil, fmt.Errorf("fit: %d rows of features but %d %s", len(x), n, what)
	}
	s := &data.Set{Name: "rows", Rows: len(x), Cols: cols, Outputs: 1, Features: make([]float64, 0, len(x)*cols)}
	for i, r := range x {
		if len(r) != cols {
			return nil, fmt.Errorf("fit: row %d has %d features, want %d as row 0 has", i, len(r), cols)
		}
		for j, v := range r {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("fit: row %d, column %d is %v, want a finite number", i, j, v)
			}
		}
		s.Features = append(s.Features, r...)
	}
	return s, nil
}

func checked(s *data.Set) (*Data, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	return &Data{Train: s}, nil
}

// HoldOut returns a copy of d whose Test set is a seeded fraction of
// d.Train's rows (stratified by class for a classifier, see
// data.Set.HoldOut) and whose Train set is the rest. It returns an error
// when fraction is not between 0 and 1 or a part would be empty.
func (d *Data) HoldOut(fraction float64, seed uint64) (*Data, error) {
	kept, held, err := d.Train.HoldOut(fraction, seed)
	if err != nil {
		return nil, fmt.Errorf("fit: holding out a test set: %w", err)
	}
	c := *d
	c.Train, c.Test = kept, held
	return &c, nil
}

// ReadCSV reads the CSV table at path (a header row of column names, then
// one row per example) to predict its column target with table.Defaults:
// the task chosen from the target (a text target, or at most
// table.MaxAutoClasses distinct integers, is classified; other numbers are
// regressed), number columns as they are, text columns one-hot, missing
// cells an error, and a fifth of the rows (seed 1) held out as Test.
// Errors name the file, the line and the column.
func ReadCSV(path, target string) (*Data, error) {
	t, err := table.Read(path)
	if err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	d, _, err := FromTable(t, nil, table.Defaults(target))
	return d, err
}

// FromTable encodes the CSV tables train and (if not nil) test as
// table.Fit does with opt, and returns the data with its encoder and
// table.Fit's report. When Options.ValFraction holds out validation rows,
// give opt the same ValFraction and ValSeed, so that the encoding learns
// nothing from them.
func FromTable(train, test *table.Table, opt table.Options) (*Data, table.Report, error) {
	enc, split, rep, err := table.Fit(train, test, opt)
	if err != nil {
		return nil, rep, fmt.Errorf("fit: %w", err)
	}
	return &Data{Train: split.Train, Test: split.Test, Encoder: enc}, rep, nil
}
