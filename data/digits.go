package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

// The UCI "Optical Recognition of Handwritten Digits" data (E. Alpaydin,
// C. Kaynak, 1998; CC BY 4.0; doi:10.24432/C50P49), as scikit-learn's
// load_digits ships it: see digits/README.md for its source, checksums,
// licence and citation.
//
//go:embed digits/digits.csv.gz
var digitsCSVGz []byte

// The built-in digits set and its split.
const (
	// DigitsRows is the number of images in the embedded set.
	DigitsRows = 1797
	// DigitsSide is the side of a digits image: 8x8 pixels, each a count
	// 0..DigitsPixelMax of ink in a 4x4 block of the 32x32 original.
	DigitsSide = 8
	// DigitsPixelMax is the largest pixel count; pixels scale by 1/16.
	DigitsPixelMax = 16
	// DigitsTestFraction is the fraction of each class that Digits holds
	// out as the test set (359 of the 1797 images; 1438 train).
	DigitsTestFraction = 0.2
	// DigitsSplitSeed seeds Digits' train/test split. It is fixed, so that
	// every command (train, eval, predict) sees the same test images.
	DigitsSplitSeed = 1797
	// DigitsName names the embedded set.
	DigitsName = "digits"
)

// DigitsSource describes the embedded set (Split.Source of Digits).
const DigitsSource = "built-in: UCI optical handwritten digits (Alpaydin & Kaynak 1998, CC BY 4.0), 1797 images of 8x8"

// DigitsSet returns all 1797 images of the embedded UCI handwritten digits:
// 64 pixels each (8x8, row-major, counts 0..16, so PixelMax is 16 and the
// features are the counts divided by 16, as the classic tutorial scales
// them), labels 0..9, ten classes named "0".."9". Each call parses the
// embedded file afresh and returns a set the caller owns. An error means the
// embedded file is damaged (a bug in the build).
func DigitsSet() (*Set, error) {
	return parseDigits(digitsCSVGz, "embedded digits.csv.gz")
}

// Digits returns the embedded digits split deterministically into a
// training and a test set: DigitsTestFraction of each class (stratified, see
// Set.HoldOut) is the test set, drawn with DigitsSplitSeed, so the split is
// the same on every run and platform. The sets are named "digits train" and
// "digits test"; Split.Synthetic is false.
func Digits() (*Split, error) {
	all, err := DigitsSet()
	if err != nil {
		return nil, err
	}
	train, test, err := all.HoldOut(DigitsTestFraction, DigitsSplitSeed)
	if err != nil {
		return nil, err
	}
	train.Name, test.Name = DigitsName+" train", DigitsName+" test"
	return &Split{Train: train, Test: test, Source: DigitsSource}, nil
}

// parseDigits reads the gzip-compressed CSV of the digits set: one image a
// line, 64 counts 0..16 and then the label 0..9.
func parseDigits(gz []byte, name string) (*Set, error) {
	const cols = DigitsSide * DigitsSide
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("data: %s: corrupt gzip: %w", name, err)
	}
	s := &Set{
		Name: DigitsName, Cols: cols, Width: DigitsSide, Height: DigitsSide, PixelMax: DigitsPixelMax,
		Pixels: make([]byte, 0, DigitsRows*cols), Labels: make([]float64, 0, DigitsRows),
		Outputs: 1, Classes: 10, ClassNames: append([]string(nil), digitClassNames...),
	}
	sc := bufio.NewScanner(zr)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		fields := strings.Split(text, ",")
		if len(fields) != cols+1 {
			return nil, formatErr(name, fmt.Sprintf("line %d", line), "%d values, want %d pixels and a label", len(fields), cols)
		}
		for j, f := range fields {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			lim := DigitsPixelMax
			if j == cols {
				lim = 9
			}
			if err != nil || v != float64(int(v)) || v < 0 || int(v) > lim {
				return nil, formatErr(name, fmt.Sprintf("line %d, column %d", line, j+1), "%q is not an integer in 0..%d", f, lim)
			}
			if j == cols {
				s.Labels = append(s.Labels, v)
			} else {
				s.Pixels = append(s.Pixels, byte(v))
			}
		}
		s.Rows++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("data: %s: %w", name, err)
	}
	if err := zr.Close(); err != nil {
		return nil, fmt.Errorf("data: %s: %w", name, err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}
