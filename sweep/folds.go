package sweep

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gputrain/gputrain/data"
)

// Fold is one split of a training set's rows into the rows a model trains
// on and the rows it is validated on, each in increasing order.
type Fold struct {
	Train, Val []int
}

// foldStream is the second word of the PCG source that draws folds
// ("kfold").
const foldStream = 0x6b666f6c64

// KFold splits the rows of s into k folds for cross-validation, drawn with
// a PCG source seeded with seed: the same set, k and seed give the same
// folds on every machine.
//
// Every fold validates on the same number of rows, n/k rounded down, so
// that the k models of a configuration see equal row counts (and can share
// a model array). The n mod k rows left over, drawn at random, are never
// validated on: they train in every fold. The other rows are stratified
// for a classification set (Classes > 0): each class's rows, shuffled, are
// dealt to the folds in turn, so every fold holds each class in its share
// to within one row. Fold i trains on every row not in its validation set.
//
// It returns an error when k is less than 2 or s has fewer than k rows.
func KFold(s *data.Set, k int, seed uint64) ([]Fold, error) {
	if k < 2 {
		return nil, fmt.Errorf("sweep: %d folds, want at least 2", k)
	}
	if s.Rows < k {
		return nil, fmt.Errorf("sweep: %s: %d rows cannot make %d folds of at least one row", s.Name, s.Rows, k)
	}
	rng := rand.New(rand.NewPCG(seed, foldStream))
	all := make([]int, s.Rows)
	for i := range all {
		all[i] = i
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	// The first n mod k shuffled rows are the leftovers: they train in
	// every fold.
	dealt, err := byClass(s, all[s.Rows%k:])
	if err != nil {
		return nil, err
	}
	val := make([][]int, k)
	for i, r := range dealt {
		val[i%k] = append(val[i%k], r)
	}
	folds := make([]Fold, k)
	for i := range folds {
		folds[i] = complement(s.Rows, val[i])
	}
	return folds, nil
}

// byClass orders rows class by class (class 0 first), keeping the order
// rows have within each class; a set without classes keeps rows as they
// are.
func byClass(s *data.Set, rows []int) ([]int, error) {
	if s.Classes == 0 {
		return rows, nil
	}
	groups := make([][]int, s.Classes)
	for _, r := range rows {
		c := s.Label(r)
		if c < 0 || c >= s.Classes || float64(c) != s.Labels[r*max(s.Outputs, 1)] {
			return nil, fmt.Errorf("sweep: %s: row %d has label %v, not a class in 0..%d", s.Name, r, s.Labels[r*max(s.Outputs, 1)], s.Classes-1)
		}
		groups[c] = append(groups[c], r)
	}
	return slices.Concat(groups...), nil
}

// complement returns the Fold that validates on val: every other row of
// 0..n-1 trains.
func complement(n int, val []int) Fold {
	val = slices.Clone(val)
	slices.Sort(val)
	in := make([]bool, n)
	for _, r := range val {
		in[r] = true
	}
	f := Fold{Val: val, Train: make([]int, 0, n-len(val))}
	for r := range n {
		if !in[r] {
			f.Train = append(f.Train, r)
		}
	}
	return f
}

// HoldOut splits the rows of s once: about fraction of them validate and
// the rest train, drawn with a PCG source seeded with seed. A
// classification set is split by class: class c with n_c rows gives
// round(fraction·n_c) of them to validation but keeps at least one to
// train. It returns an error when fraction is not strictly between 0 and 1
// or either part would be empty.
func HoldOut(s *data.Set, fraction float64, seed uint64) (Fold, error) {
	if !(fraction > 0 && fraction < 1) {
		return Fold{}, fmt.Errorf("sweep: validation fraction %v, want a number between 0 and 1 (exclusive)", fraction)
	}
	rng := rand.New(rand.NewPCG(seed, foldStream+1))
	all := make([]int, s.Rows)
	for i := range all {
		all[i] = i
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	var val []int
	if s.Classes == 0 {
		val = all[:int(math.Round(fraction*float64(s.Rows)))]
	} else {
		ordered, err := byClass(s, all)
		if err != nil {
			return Fold{}, err
		}
		counts := s.ClassCounts()
		at := 0
		for _, n := range counts {
			take := min(int(math.Round(fraction*float64(n))), max(n-1, 0))
			val = append(val, ordered[at:at+take]...)
			at += n
		}
	}
	f := complement(s.Rows, val)
	if len(f.Val) == 0 || len(f.Train) == 0 {
		return Fold{}, fmt.Errorf("sweep: %s: validation fraction %v of %d rows leaves %d to validate and %d to train; both need at least one", s.Name, fraction, s.Rows, len(f.Val), len(f.Train))
	}
	return f, nil
}
