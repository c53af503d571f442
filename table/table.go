package table

import (
	"context"
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
	"github.com/gputrain/gputrain/internal/memlimit"
)

// A Table is a CSV file read as text: a header row of column names and the
// data rows, every cell trimmed of surrounding spaces, each row remembering
// the file line it came from so that errors can name it. Read one with
// Read; Fit learns a Encoder from it, and
// Encoder.Encode turns it into a Set.
type Table struct {
	// Path names the file in messages.
	Path string
	// Header holds the column names, trimmed, a UTF-8 byte-order mark
	// removed from the first.
	Header []string
	// NotUTF8 counts the data cells that were not valid UTF-8 and were
	// read as Windows-1252 (Latin-1), NotUTF8Line the line of the first.
	// Header names are decoded the same way.
	NotUTF8, NotUTF8Line int

	cells [][]string
	lines []int         // file line of each row's first field
	multi map[int][]int // per-cell lines of the rows that span lines
}

// Rows returns the number of data rows.
func (t *Table) Rows() int { return len(t.cells) }

// Cell returns the trimmed text of row i, column j.
func (t *Table) Cell(i, j int) string { return t.cells[i][j] }

// Line returns the file line of row i, column j (the header is line 1).
func (t *Table) Line(i, j int) int {
	if l, ok := t.multi[i]; ok {
		return l[j]
	}
	return t.lines[i]
}

// Read reads the CSV file at path (comma-separated, a header row
// first, quotes as RFC 4180). Every row must have as many fields as the
// header; the error names the file, the line and the column that is short
// or extra. An empty file and a header without rows are errors.
func Read(path string) (*Table, error) {
	return ReadContext(context.Background(), path)
}

// ReadContext is Read that stops when ctx is done (an interrupt while a
// large file is read), with an error naming the file and the line reached
// that matches ctx's error.
func ReadContext(ctx context.Context, path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	return readTable(ctx, path, f)
}

// ReadFrom is Read for a CSV table held by r, e.g. an embedded string or
// a request body; name stands for the file in messages and in Table.Path.
func ReadFrom(r io.Reader, name string) (*Table, error) {
	return readTable(context.Background(), name, r)
}

// readTable is ReadContext on an open reader; path is used in messages.
func readTable(ctx context.Context, path string, src io.Reader) (*Table, error) {
	r, header, err := readHeader(path, src)
	if err != nil {
		return nil, err
	}
	t := &Table{Path: path, Header: header}
	for {
		if len(t.cells)%1024 == 0 && ctx.Err() != nil {
			line, _ := r.FieldPos(0)
			return nil, fmt.Errorf("data: %s: reading stopped at line %d: %w", path, line, context.Cause(ctx))
		}
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, ErrRowTooLong) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("data: %s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			if len(rec) < len(header) {
				return nil, fmt.Errorf("data: %s: line %d: %d fields but the header has %d columns: no value for column %q",
					path, line, len(rec), len(header), header[len(rec)])
			}
			l, _ := r.FieldPos(len(header))
			return nil, fmt.Errorf("data: %s: line %d: %d fields but the header has %d columns: field %d is past the last column %q",
				path, l, len(rec), len(header), len(header)+1, header[len(header)-1])
		}
		for j := range rec {
			var decoded bool
			if rec[j], decoded = decodeText(strings.TrimSpace(rec[j])); decoded {
				if t.NotUTF8 == 0 {
					t.NotUTF8Line, _ = r.FieldPos(j)
				}
				t.NotUTF8++
			}
		}
		if last, _ := r.FieldPos(len(rec) - 1); last != line {
			if t.multi == nil {
				t.multi = map[int][]int{}
			}
			ls := make([]int, len(rec))
			for j := range rec {
				ls[j], _ = r.FieldPos(j)
			}
			t.multi[len(t.cells)] = ls
		}
		t.cells = append(t.cells, rec)
		t.lines = append(t.lines, line)
	}
	if len(t.cells) == 0 {
		return nil, fmt.Errorf("data: %s: header only, no data rows", path)
	}
	return t, nil
}

// readHeader starts reading the CSV file src (comma-separated, quotes as
// RFC 4180; path names it in messages): it returns the reader, positioned
// at the first data row, and the header row, its names trimmed of
// surrounding spaces and a UTF-8 byte-order mark removed from the first.
// The reader takes rows of any length: the caller reports a ragged row,
// with names. An empty file is an error. LoadCSV and Read share it.
func readHeader(path string, src io.Reader) (*csv.Reader, []string, error) {
	r := NewCSVReader(path, src)
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("data: %s: empty file (want a header row of column names)", path)
	}
	if errors.Is(err, ErrRowTooLong) {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: header: %w", path, err)
	}
	for i := range header {
		header[i], _ = decodeText(strings.TrimSpace(header[i]))
	}
	header[0] = strings.TrimSpace(strings.TrimPrefix(header[0], "\ufeff"))
	return r, header, nil
}

// findColumn returns the index of the first column of header called name
// (-1 if none) and of a second one (-1 if none).
func findColumn(header []string, name string) (first, second int) {
	first, second = -1, -1
	for i, h := range header {
		switch {
		case h != name:
		case first < 0:
			first = i
		default:
			return first, i
		}
	}
	return first, second
}

// column returns the index of the column called name, or an error naming
// the file and listing the columns there are. A name the header holds twice
// is an error naming both positions.
func (t *Table) column(name string) (int, error) {
	idx, dup := findColumn(t.Header, name)
	if dup >= 0 {
		return 0, fmt.Errorf("data: %s: line 1: column %q appears twice in the header (columns %d and %d)", t.Path, name, idx+1, dup+1)
	}
	if idx < 0 {
		return 0, fmt.Errorf("data: %s: line 1: no column %q; the columns are: %s", t.Path, name, listNames(t.Header))
	}
	return idx, nil
}

// Task is what a table's target column asks the model to do.
type Task uint8

const (
	// TaskAuto classifies when the target holds text, or only integers
	// with at most MaxAutoClasses distinct values; it regresses otherwise.
	TaskAuto Task = iota
	// TaskClassify predicts one of the target's values (its classes).
	TaskClassify
	// TaskRegress predicts the target's number.
	TaskRegress
)

// MaxAutoClasses is the largest number of distinct integer values that
// TaskAuto takes for classes; a numeric target with more distinct values, or
// with a non-integer one, is regressed.
const MaxAutoClasses = 10

var taskNames = [...]string{TaskAuto: "auto", TaskClassify: "classify", TaskRegress: "regress"}

// String returns "auto", "classify" or "regress".
func (k Task) String() string {
	if int(k) < len(taskNames) {
		return taskNames[k]
	}
	return fmt.Sprintf("Task(%d)", uint8(k))
}

// ParseTask parses "auto", "classify" or "regress" (the --task flag).
func ParseTask(s string) (Task, error) {
	for i, n := range taskNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Task(i), nil
		}
	}
	return 0, fmt.Errorf("data: task %q: want auto, classify or regress", s)
}

// MarshalText returns the task's name.
func (k Task) MarshalText() ([]byte, error) {
	if int(k) >= len(taskNames) {
		return nil, fmt.Errorf("data: unknown task %d", uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText parses a name written by MarshalText.
func (k *Task) UnmarshalText(b []byte) error {
	v, err := ParseTask(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// ColumnKind says how a table column is encoded.
type ColumnKind string

const (
	// Number columns are one input each, standardised by the model's
	// scaling (see nn.Scaling).
	Number ColumnKind = "number"
	// Text columns are one-hot encoded: one input per category.
	Text ColumnKind = "text"
)

// DefaultMaxCategories is the most categories (distinct values in the
// training rows) that Fit accepts in one text column, or classes in a
// target, unless Options.MaxCategories says otherwise.
const DefaultMaxCategories = 100

// Column is the encoding of one feature column.
type Column struct {
	// Name is the column's header name.
	Name string `json:"name"`
	// Kind says whether the column holds numbers or text.
	Kind ColumnKind `json:"kind"`
	// Fill is what a missing number becomes under NAFill: the mean of the
	// column over the training rows. 0 under the other policies.
	Fill float64 `json:"fill,omitempty"`
	// Categories lists the distinct values of a text column in the
	// training rows, sorted; each is one input, 1 for a row holding it and
	// 0 otherwise. A value not in the list (unseen in training) sets none.
	Categories []string `json:"categories,omitempty"`
	// Missing, for a text column under NAFill whose training rows had
	// missing cells, adds one input after the categories that is 1 for a
	// missing cell: missing is a category of its own.
	Missing bool `json:"missing,omitempty"`
}

// width is the number of inputs the column becomes.
func (c *Column) width() int {
	if c.Kind == Number {
		return 1
	}
	w := len(c.Categories)
	if c.Missing {
		w++
	}
	return w
}

// Encoder turns the rows of a CSV table into model inputs and
// targets, as Fit learned from the training rows: numbers pass through
// (missing ones filled under NAFill), text is one-hot encoded, and the
// target becomes a class index or stays a number. It is what a model
// trained on a table keeps in its checkpoint, so that the same columns are
// encoded the same way at evaluation and prediction time. Standardising the
// numbers is the model's scaling's job (nn.Scaling), not the encoder's.
type Encoder struct {
	// Target names the column to predict.
	Target string `json:"target"`
	// TargetKind says whether the target column held numbers or text.
	TargetKind ColumnKind `json:"target_kind"`
	// Task is TaskClassify or TaskRegress (never TaskAuto once fitted).
	Task Task `json:"task"`
	// NA is the missing-value policy, applied again at evaluation and
	// prediction time.
	NA NAPolicy `json:"na"`
	// Columns are the feature columns, in input order.
	Columns []Column `json:"columns"`
	// Classes names the classes, in class-index order (sorted); nil for
	// regression. A numeric target's classes are its values written
	// shortest (strconv 'g', -1).
	Classes []string `json:"classes,omitempty"`
}

// Width returns the number of model inputs the encoder produces.
func (enc *Encoder) Width() int {
	w := 0
	for i := range enc.Columns {
		w += enc.Columns[i].width()
	}
	return w
}

// FeatureNames names every input: a number column by its name, a category
// as "column=value", a missing-value input as "column=(missing)".
func (enc *Encoder) FeatureNames() []string {
	names := make([]string, 0, enc.Width())
	for _, c := range enc.Columns {
		if c.Kind == Number {
			names = append(names, c.Name)
			continue
		}
		for _, v := range c.Categories {
			names = append(names, c.Name+"="+v)
		}
		if c.Missing {
			names = append(names, c.Name+"=(missing)")
		}
	}
	return names
}

// NumberInputs reports, for each of the Width inputs, whether it carries a
// number column (true) or a one-hot indicator (false): the inputs a model
// standardises.
func (enc *Encoder) NumberInputs() []bool {
	out := make([]bool, 0, enc.Width())
	for i := range enc.Columns {
		c := &enc.Columns[i]
		if c.Kind == Number {
			out = append(out, true)
			continue
		}
		for range c.width() {
			out = append(out, false)
		}
	}
	return out
}

// Validate checks that the encoder is one Fit could have made, e.g.
// after reading it from a checkpoint: names present and distinct, kinds
// known, categories and classes distinct and sorted, values finite.
func (enc *Encoder) Validate() error {
	if enc.Target == "" {
		return errors.New("data: table encoding: no target column")
	}
	if enc.TargetKind != Number && enc.TargetKind != Text {
		return fmt.Errorf("data: table encoding: target kind %q, want number or text", enc.TargetKind)
	}
	switch enc.NA {
	case NAError, NADrop, NAFill:
	default:
		return fmt.Errorf("data: table encoding: unknown NA policy %v", enc.NA)
	}
	if len(enc.Columns) == 0 {
		return errors.New("data: table encoding: no feature columns")
	}
	seen := map[string]bool{enc.Target: true}
	for i := range enc.Columns {
		c := &enc.Columns[i]
		if c.Name == "" || seen[c.Name] {
			return fmt.Errorf("data: table encoding: column %d is named %q, empty or used twice (target %q)", i+1, c.Name, enc.Target)
		}
		seen[c.Name] = true
		switch c.Kind {
		case Number:
			if len(c.Categories) > 0 || c.Missing {
				return fmt.Errorf("data: table encoding: number column %q has categories", c.Name)
			}
			if math.IsNaN(c.Fill) || math.IsInf(c.Fill, 0) {
				return fmt.Errorf("data: table encoding: column %q fill value %v is not finite", c.Name, c.Fill)
			}
		case Text:
			if c.width() == 0 {
				return fmt.Errorf("data: table encoding: text column %q has no categories", c.Name)
			}
			if err := checkSortedDistinct(c.Categories, false); err != nil {
				return fmt.Errorf("data: table encoding: column %q categories: %w", c.Name, err)
			}
		default:
			return fmt.Errorf("data: table encoding: column %q kind %q, want number or text", c.Name, c.Kind)
		}
	}
	switch enc.Task {
	case TaskClassify:
		if len(enc.Classes) < 2 {
			return fmt.Errorf("data: table encoding: %d classes, want at least 2", len(enc.Classes))
		}
		if err := checkSortedDistinct(enc.Classes, enc.TargetKind == Number); err != nil {
			return fmt.Errorf("data: table encoding: classes: %w", err)
		}
	case TaskRegress:
		if enc.Classes != nil {
			return errors.New("data: table encoding: a regression target has classes")
		}
		if enc.TargetKind != Number {
			return errors.New("data: table encoding: a regression target must hold numbers")
		}
	default:
		return fmt.Errorf("data: table encoding: task %v, want classify or regress", enc.Task)
	}
	return nil
}

// checkSortedDistinct checks that vs is strictly increasing (as numbers
// when numeric, which must then parse) and has no empty value.
func checkSortedDistinct(vs []string, numeric bool) error {
	for i, v := range vs {
		if v == "" {
			return fmt.Errorf("value %d is empty", i+1)
		}
		if numeric {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("value %q is not a finite number", v)
			}
			if i > 0 {
				if p, _ := strconv.ParseFloat(vs[i-1], 64); !(p < x) {
					return fmt.Errorf("values %q and %q are not in increasing order", vs[i-1], v)
				}
			}
		} else if i > 0 && !(vs[i-1] < v) {
			return fmt.Errorf("values %q and %q are not sorted and distinct", vs[i-1], v)
		}
	}
	return nil
}

// lookups returns the position of every category of every text column and
// of every class.
func (enc *Encoder) lookups() (cats []map[string]int, classes map[string]int) {
	index := func(vs []string) map[string]int {
		m := make(map[string]int, len(vs))
		for k, v := range vs {
			m[v] = k
		}
		return m
	}
	cats = make([]map[string]int, len(enc.Columns))
	for i, c := range enc.Columns {
		cats[i] = index(c.Categories)
	}
	return cats, index(enc.Classes)
}

// EncodeReport says what Encode did with a table's rows.
type EncodeReport struct {
	// Rows is the number of rows encoded.
	Rows int
	// Kept holds, for each encoded row, its row index in the table (0 is
	// the first data row); rows dropped under NADrop are missing from it.
	Kept []int
	// Dropped counts the rows skipped for a missing cell (NADrop, or a
	// missing target under NAFill); DroppedLines lists the file lines of
	// the first 20.
	Dropped      int
	DroppedLines []int
	// Filled counts the missing cells filled under NAFill.
	Filled int
	// Unseen counts the text cells whose value was not a training
	// category (encoded as all zeros); UnseenExample describes the first.
	Unseen        int
	UnseenExample string
}

func (r *EncodeReport) drop(line int) {
	r.Dropped++
	if len(r.DroppedLines) < 20 {
		r.DroppedLines = append(r.DroppedLines, line)
	}
}

// Encode turns the rows of t into a Set: Features hold the encoder's Width
// inputs per row (numbers as they are, fills and one-hot indicators), and,
// when withTarget is true, Labels hold the class index (classification) or
// the number (regression) of the target column. Without the target
// (prediction) the target column may be absent and is not read; Labels is
// then nil.
//
// Columns are found by name, in any order; extra columns are ignored. A
// missing column, a missing cell under NAError, text in a number column, a
// number that is not finite and (withTarget) a class the training rows did
// not have are errors naming the file, the line and the column. Under
// NADrop rows with a missing cell are skipped and reported; under NAFill a
// missing number becomes the column's Fill, a missing text cell its
// Missing input (or all zeros), and a row whose target is missing is
// skipped. A category unseen in training sets no input and is counted in
// the report. It is an error if no row remains.
func (enc *Encoder) Encode(t *Table, withTarget bool) (*data.Set, EncodeReport, error) {
	rows := make([]int, t.Rows())
	for i := range rows {
		rows[i] = i
	}
	return enc.encodeRows(t, rows, withTarget, filepath.Base(t.Path))
}

// encodeRows is Encode of the given rows of t. On an error the report
// holds what was done up to it.
func (enc *Encoder) encodeRows(t *Table, rows []int, withTarget bool, name string) (*data.Set, EncodeReport, error) {
	var rep EncodeReport
	if err := enc.Validate(); err != nil {
		return nil, rep, err
	}
	re, err := enc.rowEncoder(t, withTarget)
	if err != nil {
		return nil, rep, err
	}
	if err := enc.checkMemory(t.Path, len(rows)); err != nil {
		return nil, rep, err
	}
	feats, labels, err := re.encode(rows, &rep)
	if err != nil {
		return nil, rep, err
	}
	rep.Rows = len(rep.Kept)
	if rep.Rows == 0 {
		return nil, rep, fmt.Errorf("data: %s: all %d rows were dropped for missing cells (NA policy %v)", t.Path, len(rows), enc.NA)
	}
	return enc.encodedSet(name, feats, labels, rep), rep, nil
}

// rowEncoder encodes rows of one table with a Encoder.
type rowEncoder struct {
	enc *Encoder
	t   *Table
	// idx holds the table column of each of enc.Columns; ti is the target's
	// (-1: the target is not read).
	idx []int
	ti  int
	// order holds the columns read, in header order: the first missing
	// cell of a row is the one reported.
	order []int
	// cats and classes are enc's lookups (Encoder.lookups).
	cats    []map[string]int
	classes map[string]int
	// row is the inputs of the row being encoded (enc.Width of them).
	row []float64
}

// rowEncoder finds enc's columns in t (and the target when withTarget) and
// returns the encoder of t's rows.
func (enc *Encoder) rowEncoder(t *Table, withTarget bool) (*rowEncoder, error) {
	re := &rowEncoder{enc: enc, t: t, ti: -1}
	re.cats, re.classes = enc.lookups()
	re.idx = make([]int, len(enc.Columns))
	for k, c := range enc.Columns {
		i, err := t.column(c.Name)
		if err != nil {
			return nil, fmt.Errorf("%w (the model was trained with this column)", err)
		}
		re.idx[k] = i
	}
	if withTarget {
		i, err := t.column(enc.Target)
		if err != nil {
			return nil, fmt.Errorf("%w (evaluation needs the target column; predict does not)", err)
		}
		re.ti = i
	}
	re.order = slices.Clone(re.idx)
	if re.ti >= 0 {
		re.order = append(re.order, re.ti)
	}
	slices.Sort(re.order)
	re.row = make([]float64, enc.Width())
	return re, nil
}

// encode encodes the given rows: their inputs, row after row, and their
// labels (nil without the target). Dropped, filled, unseen and kept rows
// are counted in rep.
func (re *rowEncoder) encode(rows []int, rep *EncodeReport) (feats, labels []float64, err error) {
	feats = make([]float64, 0, len(rows)*len(re.row))
	for _, i := range rows {
		filled, keep, err := re.missing(i, rep)
		if err != nil {
			return nil, nil, err
		}
		if !keep {
			continue
		}
		var label float64
		if re.ti >= 0 {
			v, err := re.enc.targetValue(re.t, i, re.ti, re.classes)
			if err != nil {
				return nil, nil, err
			}
			label = v
		}
		if err := re.inputs(i, rep); err != nil {
			return nil, nil, err
		}
		rep.Filled += filled
		feats = append(feats, re.row...)
		if re.ti >= 0 {
			labels = append(labels, label)
		}
		rep.Kept = append(rep.Kept, i)
	}
	return feats, labels, nil
}

// missing applies the NA policy to row i's missing cells: an error under
// NAError; under NADrop, or for a missing target, the row is dropped
// (keep false, reported in rep); under NAFill it returns how many cells
// are to be filled.
func (re *rowEncoder) missing(i int, rep *EncodeReport) (filled int, keep bool, err error) {
	t := re.t
	for _, j := range re.order {
		cell := t.cells[i][j]
		if !isNA(cell) {
			continue
		}
		if re.enc.NA == NAError {
			return 0, false, encodeNAError(t, i, j, cell)
		}
		if re.enc.NA == NADrop || j == re.ti {
			rep.drop(t.Line(i, j))
			return 0, false, nil
		}
		filled++
	}
	return filled, true, nil
}

// inputs writes row i's inputs into re.row: numbers as they are, a
// missing cell (NAFill) as the column's Fill or Missing input, a category
// as its one-hot indicator; an unseen category sets none and is counted
// in rep.
func (re *rowEncoder) inputs(i int, rep *EncodeReport) error {
	t, row := re.t, re.row
	clear(row)
	off := 0
	for k := range re.enc.Columns {
		c := &re.enc.Columns[k]
		j := re.idx[k]
		cell := t.cells[i][j]
		switch {
		case isNA(cell): // NAFill
			if c.Kind == Number {
				row[off] = c.Fill
			} else if c.Missing {
				row[off+len(c.Categories)] = 1
			}
		case c.Kind == Number:
			v, err := numberCell(t, i, j)
			if err != nil {
				return err
			}
			row[off] = v
		default:
			if p, ok := re.cats[k][cell]; ok {
				row[off+p] = 1
			} else {
				if rep.Unseen == 0 {
					rep.UnseenExample = fmt.Sprintf("line %d, column %q: %q", t.Line(i, j), c.Name, cell)
				}
				rep.Unseen++
			}
		}
		off += c.width()
	}
	return nil
}

// encodedSet is the Set of the encoded rows named name.
func (enc *Encoder) encodedSet(name string, feats, labels []float64, rep EncodeReport) *data.Set {
	s := &data.Set{
		Name:         name,
		Rows:         rep.Rows,
		Cols:         enc.Width(),
		Features:     feats,
		FeatureNames: enc.FeatureNames(),
		Outputs:      1,
		Labels:       labels,
		TargetNames:  []string{enc.Target},
		Dropped:      rep.Dropped,
	}
	if enc.Task == TaskClassify {
		s.Classes = len(enc.Classes)
		s.ClassNames = slices.Clone(enc.Classes)
	}
	return s
}

// targetValue returns the label of row i's (non-missing) target cell.
func (enc *Encoder) targetValue(t *Table, i, j int, classes map[string]int) (float64, error) {
	cell := t.cells[i][j]
	key := cell
	if enc.TargetKind == Number {
		v, err := numberCell(t, i, j)
		if err != nil {
			return 0, err
		}
		if enc.Task == TaskRegress {
			return v, nil
		}
		key = numberKey(v)
	}
	k, ok := classes[key]
	if !ok {
		return 0, fmt.Errorf("data: %s: line %d, column %q: class %q is not one of the %d classes of the training rows (%s)",
			t.Path, t.Line(i, j), enc.Target, cell, len(enc.Classes), listSome(enc.Classes))
	}
	return float64(k), nil
}

// numberCell parses row i, column j as a finite number.
func numberCell(t *Table, i, j int) (float64, error) {
	cell := t.cells[i][j]
	v, err := strconv.ParseFloat(cell, 64)
	switch {
	case err == nil && !math.IsNaN(v) && !math.IsInf(v, 0):
		return v, nil
	case err == nil || errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("data: %s: line %d, column %q: %q is not a finite number", t.Path, t.Line(i, j), t.Header[j], cell)
	}
	return 0, fmt.Errorf("data: %s: line %d, column %q: %q is not a number (the column holds numbers)", t.Path, t.Line(i, j), t.Header[j], cell)
}

// naError reports a missing cell while a table is fitted (train, which
// takes --na).
func naError(t *Table, i, j int, cell string) error {
	return fmt.Errorf("data: %s: line %d, column %q: %q is missing (NA); --na drop skips such rows, --na fill fills them", t.Path, t.Line(i, j), t.Header[j], cell)
}

// encodeNAError reports a missing cell while a table is encoded with a
// fitted encoder (a model's: eval, predict), whose NA policy is the
// model's and no flag changes.
func encodeNAError(t *Table, i, j int, cell string) error {
	return fmt.Errorf("data: %s: line %d, column %q: %q is missing (NA), and the model's NA policy (train's --na) is error, which takes no missing cells: fill the cell, or remove the row", t.Path, t.Line(i, j), t.Header[j], cell)
}

// numberKey writes a numeric class value the one way classes name it.
func numberKey(v float64) string {
	if v == 0 {
		v = 0 // -0 and 0 are one class
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// listSome joins up to 8 values for a message.
func listSome(vs []string) string {
	if len(vs) <= 8 {
		return strings.Join(vs, ", ")
	}
	return strings.Join(vs[:8], ", ") + fmt.Sprintf(", … %d more", len(vs)-8)
}

// checkMemory refuses, before they are allocated, the inputs of rows rows
// encoded into enc.Width inputs each, float64, when they need more memory
// than there is: one-hot columns with many categories make wide rows.
func (enc *Encoder) checkMemory(path string, rows int) error {
	width := enc.Width()
	need := memlimit.Mul(memlimit.Mul(uint64(rows), uint64(width)+1), 8)
	widest := -1
	for k := range enc.Columns {
		if widest < 0 || enc.Columns[k].width() > enc.Columns[widest].width() {
			widest = k
		}
	}
	what := fmt.Sprintf("encoding %d rows into %d inputs each", rows, width)
	err := memlimit.Check(what, need)
	if err == nil {
		return nil
	}
	hint := ""
	if widest >= 0 && enc.Columns[widest].Kind == Text {
		c := enc.Columns[widest]
		hint = fmt.Sprintf("; the widest column, %q, has %d categories: leave it out (--drop %s) or lower --max-categories", c.Name, len(c.Categories), c.Name)
	}
	return fmt.Errorf("data: %s: %w%s", path, err, hint)
}
