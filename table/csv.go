package table

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gputrain/gputrain/data"
)

// NAPolicy says what LoadCSV does with a cell that is missing (NA, empty,
// NaN, ...) or not a number.
type NAPolicy int

const (
	// NAError stops at the first such cell with an error naming the file,
	// the line and the column. It is the default.
	NAError NAPolicy = iota
	// NADrop skips every row that has such a cell in a chosen column and
	// counts the skipped rows in CSVReport.Dropped (and Set.Dropped).
	NADrop
	// NAFill keeps the row and fills the cell: a number with the column's
	// mean over the training rows, text with a category of its own. Only
	// tables (Fit, Encoder) fill; LoadCSV rejects it.
	NAFill
)

// naPolicyNames are the names of the NA policies, as ParseNAPolicy takes
// them.
var naPolicyNames = [...]string{NAError: "error", NADrop: "drop", NAFill: "fill"}

// String returns "error", "drop" or "fill".
func (p NAPolicy) String() string {
	if p >= 0 && int(p) < len(naPolicyNames) {
		return naPolicyNames[p]
	}
	return fmt.Sprintf("NAPolicy(%d)", int(p))
}

// ParseNAPolicy parses "error", "drop" or "fill" (the --na flag); empty
// means error.
func ParseNAPolicy(s string) (NAPolicy, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return NAError, nil
	}
	for i, n := range naPolicyNames {
		if s == n {
			return NAPolicy(i), nil
		}
	}
	return 0, fmt.Errorf("data: NA policy %q: want %s", s, strings.Join(naPolicyNames[:], ", "))
}

// MarshalText returns the policy's name.
func (p NAPolicy) MarshalText() ([]byte, error) {
	if p < 0 || int(p) >= len(naPolicyNames) {
		return nil, fmt.Errorf("data: unknown NA policy %d", int(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText parses a name written by MarshalText.
func (p *NAPolicy) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("data: empty NA policy")
	}
	v, err := ParseNAPolicy(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// CSVReport summarises what LoadCSV read.
type CSVReport struct {
	Rows    int // data rows kept
	Dropped int // data rows skipped under NADrop
	// DroppedLines lists the file line numbers of the first skipped rows
	// (at most 20), for messages.
	DroppedLines []int
}

// naCells are the spellings of a missing value, compared in lower case.
// "None" is not one: in text columns it is often a category of its own
// (the Ames houses' MasVnrType "None" means no masonry veneer).
var naCells = []string{"", "na", "n/a", "nan", "null", "?"}

func isNA(cell string) bool { return slices.Contains(naCells, strings.ToLower(cell)) }

// LoadCSV reads the numeric columns x (features, in the order given) and y
// (the regression target) from a comma-separated file whose first line is a
// header of column names. The result has Features (Rows*len(x)), Labels
// (Rows, Outputs 1), Classes 0, FeatureNames x and TargetNames [y].
//
// Line numbers in errors count lines of the file from 1, the header being
// line 1. Errors name the file and: a missing column (listing those there
// are), an empty file, a header without data rows, a row whose field count
// differs from the header's, and (under NAError) a cell of a chosen column
// that is missing (NA, empty, NaN, N/A, null, ?) or not a finite number.
// Under NADrop such rows are skipped and counted; it is an error if no rows
// remain.
func LoadCSV(path string, x []string, y string, na NAPolicy) (*data.Set, CSVReport, error) {
	var rep CSVReport
	f, err := os.Open(path)
	if err != nil {
		return nil, rep, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	set, rep, err := readCSV(path, f, x, y, na)
	if err != nil {
		return nil, CSVReport{}, err
	}
	return set, rep, nil
}

// readCSV is LoadCSV on an open reader; path is used in messages and names.
// On an error the report holds what was read up to it.
func readCSV(path string, src io.Reader, x []string, y string, na NAPolicy) (*data.Set, CSVReport, error) {
	var rep CSVReport
	if err := checkCSVColumns(path, x, y, na); err != nil {
		return nil, rep, err
	}
	r, header, err := readHeader(path, src) // ragged rows are reported below, with names
	if err != nil {
		return nil, rep, err
	}
	r.ReuseRecord = true // the header, read before, is not reused

	want := append(slices.Clone(x), y)
	idx, err := csvColumns(path, header, want)
	if err != nil {
		return nil, rep, err
	}
	cr := csvRows{path: path, r: r, header: header, want: want, idx: idx, na: na}
	feats, labels, total, err := cr.read(len(x), &rep)
	if err != nil {
		return nil, rep, err
	}
	if total == 0 {
		return nil, rep, fmt.Errorf("data: %s: header only, no data rows", path)
	}
	rep.Rows = len(labels)
	if rep.Rows == 0 {
		return nil, rep, fmt.Errorf("data: %s: all %d data rows were dropped for missing or non-numeric cells in columns %s", path, total, strings.Join(want, ", "))
	}
	set := &data.Set{
		Name:         filepath.Base(path),
		Rows:         rep.Rows,
		Cols:         len(x),
		Features:     feats,
		FeatureNames: slices.Clone(x),
		Outputs:      1,
		Labels:       labels,
		TargetNames:  []string{y},
		Dropped:      rep.Dropped,
	}
	return set, rep, nil
}

// checkCSVColumns checks the arguments of reading the feature columns x and
// the target y of the file at path under the NA policy na.
func checkCSVColumns(path string, x []string, y string, na NAPolicy) error {
	if na != NAError && na != NADrop {
		return fmt.Errorf("data: %s: NA policy %v: reading numeric columns takes error or drop (fill is for tables)", path, na)
	}
	if len(x) == 0 {
		return fmt.Errorf("data: %s: no feature columns given", path)
	}
	if y == "" {
		return fmt.Errorf("data: %s: no target column given", path)
	}
	for i, c := range x {
		if c == y {
			return fmt.Errorf("data: %s: column %q is both a feature and the target", path, c)
		}
		if slices.Contains(x[:i], c) {
			return fmt.Errorf("data: %s: feature column %q given twice", path, c)
		}
	}
	return nil
}

// csvColumns returns the index in header of each of the columns want; a
// column missing or named twice is an error.
func csvColumns(path string, header, want []string) ([]int, error) {
	idx := make([]int, len(want))
	for k, name := range want {
		i, dup := findColumn(header, name)
		if dup >= 0 {
			return nil, fmt.Errorf("data: %s: header: column %q appears twice (columns %d and %d)", path, name, i+1, dup+1)
		}
		if i < 0 {
			return nil, fmt.Errorf("data: %s: header: no column %q; the columns are: %s", path, name, listNames(header))
		}
		idx[k] = i
	}
	return idx, nil
}

// csvRows reads the chosen numeric columns of the data rows of a CSV file.
type csvRows struct {
	path   string // for messages
	r      *csv.Reader
	header []string
	// want names the columns read, the features then the target; idx holds
	// their indexes in the header.
	want []string
	idx  []int
	na   NAPolicy
}

// read reads the data rows to the end: the first nx numbers of each kept
// row are its features, the last its label. Rows dropped under NADrop are
// counted in rep; total counts all the data rows.
func (cr *csvRows) read(nx int, rep *CSVReport) (feats, labels []float64, total int, err error) {
	row := make([]float64, len(cr.want))
	for {
		rec, err := cr.r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, ErrRowTooLong) {
			return nil, nil, 0, err
		}
		if err != nil {
			return nil, nil, 0, fmt.Errorf("data: %s: %w", cr.path, err)
		}
		total++
		line, _ := cr.r.FieldPos(0)
		if len(rec) != len(cr.header) {
			return nil, nil, 0, fmt.Errorf("data: %s: line %d: %d fields but the header has %d columns", cr.path, line, len(rec), len(cr.header))
		}
		ok, err := cr.parse(rec, row)
		if err != nil {
			return nil, nil, 0, err
		}
		if !ok {
			rep.Dropped++
			if len(rep.DroppedLines) < 20 {
				rep.DroppedLines = append(rep.DroppedLines, line)
			}
			continue
		}
		feats = append(feats, row[:nx]...)
		labels = append(labels, row[nx])
	}
	return feats, labels, total, nil
}

// parse parses the chosen cells of the record rec into row. A cell that is
// missing or not a finite number is an error naming its line and column,
// or, under NADrop, makes ok false (the row is to be dropped).
func (cr *csvRows) parse(rec []string, row []float64) (ok bool, err error) {
	for k, i := range cr.idx {
		cell := strings.TrimSpace(rec[i])
		v, perr := strconv.ParseFloat(cell, 64)
		if perr == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
			row[k] = v
			continue
		}
		if cr.na == NADrop {
			return false, nil
		}
		cl, _ := cr.r.FieldPos(i)
		what := "is not a number"
		switch {
		case isNA(cell):
			what = "is missing (NA)"
		case perr == nil:
			what = "is not finite"
		}
		return false, fmt.Errorf("data: %s: line %d, column %q: %q %s (the NA policy drop skips such rows)", cr.path, cl, cr.want[k], cell, what)
	}
	return true, nil
}
