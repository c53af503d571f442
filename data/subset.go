package data

import (
	"fmt"
	"strconv"
	"strings"
)

// Subset returns a split that keeps only the rows whose class is in
// classes, relabelled 0..len(classes)-1 in the order given: Subset([]int{3, 8})
// maps 3 to 0 and 8 to 1. Two classes make the binary task (Classes = 2).
// Every class must be a distinct class index of the split and must occur in
// its training set; the error names the classes that do not. The pixels or
// features of kept rows are copied, so the result does not share memory
// with s.
func (s *Split) Subset(classes []int) (*Split, error) {
	if s == nil || s.Train == nil || s.Test == nil {
		return nil, fmt.Errorf("data: subset: split has no training or test set")
	}
	if s.Train.Classes < 1 {
		return nil, fmt.Errorf("data: subset of %s: not a classification set (no classes)", s.Train.Name)
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("data: subset of %s: no classes given", s.Train.Name)
	}
	nc := max(s.Train.Classes, s.Test.Classes)
	relabel := make(map[int]int, len(classes))
	var bad []string
	for i, c := range classes {
		if _, dup := relabel[c]; dup {
			return nil, fmt.Errorf("data: subset of %s: class %d given twice", s.Train.Name, c)
		}
		if c < 0 || c >= nc {
			bad = append(bad, strconv.Itoa(c))
		}
		relabel[c] = i
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("data: subset of %s: class %s not in 0..%d", s.Train.Name, strings.Join(bad, ", "), nc-1)
	}
	// Classes absent from the training set cannot be learned.
	seen := make(map[int]bool, len(classes))
	for _, l := range s.Train.Labels {
		seen[int(l)] = true
	}
	for _, c := range classes {
		if !seen[c] {
			bad = append(bad, strconv.Itoa(c))
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("data: subset of %s: class %s not present in the data", s.Train.Name, strings.Join(bad, ", "))
	}
	tag := make([]string, len(classes))
	for i, c := range classes {
		tag[i] = strconv.Itoa(c)
	}
	suffix := " (classes " + strings.Join(tag, ",") + ")"
	train, err := s.Train.subset(relabel, classes, suffix)
	if err != nil {
		return nil, err
	}
	test, err := s.Test.subset(relabel, classes, suffix)
	if err != nil {
		return nil, err
	}
	if test.Rows == 0 {
		return nil, fmt.Errorf("data: subset of %s: no rows of class %s", s.Test.Name, strings.Join(tag, ", "))
	}
	return &Split{Train: train, Test: test, Synthetic: s.Synthetic, Source: s.Source}, nil
}

// subset keeps the rows of s whose label is a key of relabel.
func (s *Set) subset(relabel map[int]int, classes []int, suffix string) (*Set, error) {
	if s.Outputs > 1 {
		return nil, fmt.Errorf("data: subset of %s: %d outputs per row, want 1", s.Name, s.Outputs)
	}
	var keep []int
	for i, l := range s.Labels {
		if _, ok := relabel[int(l)]; ok && l == float64(int(l)) {
			keep = append(keep, i)
		}
	}
	out := s.Take(keep, s.Name+suffix)
	for k, l := range out.Labels {
		out.Labels[k] = float64(relabel[int(l)])
	}
	out.Classes = len(classes)
	out.ClassNames = nil
	if len(s.ClassNames) >= s.Classes && s.Classes > 0 {
		out.ClassNames = make([]string, len(classes))
		for i, c := range classes {
			if c < len(s.ClassNames) {
				out.ClassNames[i] = s.ClassNames[c]
			} else {
				out.ClassNames[i] = strconv.Itoa(c)
			}
		}
	}
	return out, nil
}
