package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Take returns a new set holding the given rows of s, in the order given
// (a row may appear more than once), named name. Pixels or features and
// labels are copied; everything else that describes the rows (sizes, pixel
// max, names, classes) is kept. It panics if a row is out of range.
func (s *Set) Take(rows []int, name string) *Set {
	out := *s
	out.Name = name
	out.Rows = len(rows)
	out.Dropped = 0
	out.FeatureNames = slices.Clone(s.FeatureNames)
	out.TargetNames = slices.Clone(s.TargetNames)
	out.ClassNames = slices.Clone(s.ClassNames)
	out.Pixels, out.Features = nil, nil
	if s.Pixels != nil {
		out.Pixels = make([]byte, 0, len(rows)*s.Cols)
	}
	if s.Features != nil {
		out.Features = make([]float64, 0, len(rows)*s.Cols)
	}
	lw := s.labelWidth()
	out.Labels = make([]float64, 0, len(rows)*lw)
	for _, i := range rows {
		if i < 0 || i >= s.Rows {
			panic(fmt.Sprintf("data: Take: row %d of %s outside 0..%d", i, s.Name, s.Rows-1))
		}
		if s.Pixels != nil {
			out.Pixels = append(out.Pixels, s.Pixels[i*s.Cols:(i+1)*s.Cols]...)
		}
		if s.Features != nil {
			out.Features = append(out.Features, s.Features[i*s.Cols:(i+1)*s.Cols]...)
		}
		if s.Labels != nil {
			out.Labels = append(out.Labels, s.Labels[i*lw:(i+1)*lw]...)
		}
	}
	if s.Labels == nil {
		out.Labels = nil
	}
	return &out
}

// HoldOut splits s in two: held, about fraction of its rows, and kept, the
// rest, each in s's row order (so neither shares memory with s). The rows
// held out are drawn with a PCG source seeded with seed: the same set,
// fraction and seed give the same split on every platform.
//
// A classification set (Classes > 0) is split by class (stratified): class c
// with n_c rows gives round(fraction·n_c) of them to held, but always keeps
// at least one, so that both parts hold every class in the same proportions
// as s, to within one row per class. A set without classes gives
// round(fraction·Rows) rows, drawn uniformly.
//
// kept is named s.Name and held s.Name + " (held out)"; rename them as
// suits (they are new sets). It returns
// an error when fraction is not strictly between 0 and 1 or when either part
// would be empty.
func (s *Set) HoldOut(fraction float64, seed uint64) (kept, held *Set, err error) {
	keptRows, heldRows, err := s.HoldOutRows(fraction, seed)
	if err != nil {
		return nil, nil, err
	}
	return s.Take(keptRows, s.Name), s.Take(heldRows, s.Name+" (held out)"), nil
}

// HoldOutRows returns the rows HoldOut keeps and holds out, each in
// increasing order. It reads only Rows, Classes and (for a classification
// set) the labels, so that table.Fit can learn which rows training will hold
// out before it encodes any features.
func (s *Set) HoldOutRows(fraction float64, seed uint64) (keptRows, heldRows []int, err error) {
	if !(fraction > 0 && fraction < 1) {
		return nil, nil, fmt.Errorf("data: %s: hold-out fraction %v, want a number between 0 and 1 (exclusive)", s.Name, fraction)
	}
	rng := rand.New(rand.NewPCG(seed, 0x686f6c646f7574)) // "holdout"
	pick := func(rows []int, n int) {
		rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		slices.Sort(rows[:n])
		slices.Sort(rows[n:])
	}
	if s.Classes > 0 {
		byClass := make([][]int, s.Classes)
		for i := range s.Rows {
			if l := s.Label(i); l >= 0 && l < s.Classes {
				byClass[l] = append(byClass[l], i)
			} else {
				return nil, nil, formatErr(s.Name, "labels", "row %d has label %v, not a class in 0..%d", i, s.Labels[i*s.labelWidth()], s.Classes-1)
			}
		}
		for _, rows := range byClass {
			n := min(int(math.Round(fraction*float64(len(rows)))), max(len(rows)-1, 0))
			pick(rows, n)
			heldRows = append(heldRows, rows[:n]...)
			keptRows = append(keptRows, rows[n:]...)
		}
		slices.Sort(heldRows)
		slices.Sort(keptRows)
	} else {
		rows := make([]int, s.Rows)
		for i := range rows {
			rows[i] = i
		}
		n := int(math.Round(fraction * float64(s.Rows)))
		pick(rows, n)
		heldRows, keptRows = rows[:n], rows[n:]
	}
	if len(heldRows) == 0 || len(keptRows) == 0 {
		return nil, nil, fmt.Errorf("data: %s: holding out %v of %d rows leaves %d held out and %d kept; both need at least one",
			s.Name, fraction, s.Rows, len(heldRows), len(keptRows))
	}
	return keptRows, heldRows, nil
}

// HeldOut splits positions 0..n-1 into training and test positions, both
// returned in increasing order. Without strata the positions are shuffled
// together; with strata (a group index 0..groups-1 per position, e.g. the
// class) each group is shuffled on its own, in group order, and keeps at
// least one training position. Of each shuffled group of size g the first
// floor(frac·g + 0.5) go to the test set.
//
// The shuffle is Fisher–Yates from the last position down, swapping
// position i with j = x mod (i+1), x the next output of splitmix64 seeded
// with seed (one generator for all groups), so that other programs can
// reproduce the split exactly (bench/sklearn_mlp.py does).
func HeldOut(n int, strata []int, groups int, frac float64, seed uint64) (train, test []int) {
	var gs [][]int
	if strata == nil {
		g := make([]int, n)
		for i := range g {
			g[i] = i
		}
		gs = [][]int{g}
	} else {
		if len(strata) != n {
			panic("data: HeldOut: len(strata) != n")
		}
		gs = make([][]int, groups)
		for i, s := range strata {
			gs[s] = append(gs[s], i)
		}
	}
	r := rng{state: seed}
	for _, g := range gs {
		for i := len(g) - 1; i > 0; i-- {
			j := int(r.uint64() % uint64(i+1))
			g[i], g[j] = g[j], g[i]
		}
		nt := int(math.Floor(frac*float64(len(g)) + 0.5))
		if strata != nil {
			nt = min(nt, len(g)-1)
		}
		nt = max(min(nt, len(g)), 0)
		test = append(test, g[:nt]...)
		train = append(train, g[nt:]...)
	}
	slices.Sort(train)
	slices.Sort(test)
	return train, test
}
