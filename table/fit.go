package table

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gputrain/gputrain/data"
)

// Options configures Fit.
type Options struct {
	// Target names the column to predict.
	Target string
	// Features names the feature columns, in input order; nil means every
	// column but the target and Drop (a nameless column whose cells are all
	// empty, as a trailing comma makes, is skipped).
	Features []string
	// Drop names columns to leave out of the features (e.g. an Id).
	Drop []string
	// NA is the missing-value policy (NAError, NADrop or NAFill).
	NA NAPolicy
	// Task is TaskAuto (see its rule), TaskClassify or TaskRegress.
	Task Task
	// MaxCategories caps the distinct values of one text column (and the
	// classes of the target); 0 means DefaultMaxCategories.
	MaxCategories int
	// TestFraction is the share of the rows held out for testing when
	// Fit gets no test table, in (0, 1).
	TestFraction float64
	// Seed seeds the held-out split.
	Seed uint64
	// ValFraction is the share of the training rows that training will hold
	// out for validation (nn.Config.ValFraction; 0: none), drawn from the
	// encoded training set as Set.HoldOut(ValFraction, ValSeed) draws them.
	// Fit learns nothing from those rows, as it learns nothing from
	// the test rows; they are still encoded into Split.Train, for training
	// to hold out.
	ValFraction float64
	// ValSeed seeds the validation rows (nn.Config.ValSeed).
	ValSeed uint64
}

// Defaults returns the Options that predict target as the gputrain
// command does by default: missing cells are errors, the
// task is chosen by TaskAuto's rule, at most DefaultMaxCategories values
// per text column, and a fifth of the rows (seed 1) held out for testing.
func Defaults(target string) Options {
	return Options{Target: target, NA: NAError, Task: TaskAuto, MaxCategories: DefaultMaxCategories,
		TestFraction: 0.2, Seed: 1}
}

// Report says what Fit did.
type Report struct {
	// File reports the pass over the training file before the split: its
	// Dropped rows had a missing cell under NADrop or a missing target
	// under NAFill; Rows counts the rest.
	File EncodeReport
	// Train and Test report the encoding of the training and test rows.
	Train, Test EncodeReport
	// TaskReason says which task was chosen and why.
	TaskReason string
	// Constant lists the columns Fit left out of the features because
	// they hold one value in every training row (only when Options.
	// Features is nil: a constant column named there is an error).
	Constant []ConstantColumn
}

// ConstantColumn is a column that holds one value in every training row: as
// an input it would be the same number for every row, nothing to learn
// from.
type ConstantColumn struct {
	Name  string
	Value string // the value, as the file writes it
}

// Fit learns how to encode the columns of train and encodes it. When
// test is nil, a seeded held-out fraction of train's rows is the test set
// (see HeldOut; stratified by class for classification), else test is
// encoded with what train's rows taught. It returns the encoder, the split
// and a report.
//
// Column kinds come from the whole training file: a column is a number
// column when every present cell parses as a number, a text column
// otherwise. Everything learned from values comes from the training rows
// only, less the validation rows of opt.ValFraction: the fill values (means) of number columns, the categories of text
// columns (at most MaxCategories per column, else an error naming the column)
// and the classes. Missing cells (empty, NA, N/A, NaN, null, ?; any case)
// follow opt.NA: NAError stops at the first with an error naming the file,
// the line and the column, NADrop skips the row, NAFill fills it (rows with
// a missing target are skipped). The task follows opt.Task; TaskAuto
// classifies a text target, or an integer one with at most MaxAutoClasses
// distinct values, and regresses any other numeric target.
//
// Errors name the file and, where there is one, the line and the column:
// unknown or repeated columns, a column with no values, a target with one
// class or one value, text in a regressed target, too many categories,
// non-finite numbers, too few rows to hold out a test set.
func Fit(train, test *Table, opt Options) (*Encoder, *data.Split, Report, error) {
	enc, split, rep, err := fitTable(train, test, opt)
	if err != nil {
		return nil, nil, Report{}, err
	}
	return enc, split, rep, nil
}

// fitTable is Fit, step by step: check the options, resolve the
// columns, keep the rows the NA policy keeps, choose the task, hold out the
// test rows, learn the classes and the feature columns from the training
// rows less the validation rows, and encode both parts.
func fitTable(train, test *Table, opt Options) (*Encoder, *data.Split, Report, error) {
	var rep Report
	maxCat, err := checkTableOptions(train.Path, test != nil, opt)
	if err != nil {
		return nil, nil, rep, err
	}
	ti, err := train.column(opt.Target)
	if err != nil {
		return nil, nil, rep, err
	}
	feats, err := featureColumns(train, ti, opt.Features, opt.Drop)
	if err != nil {
		return nil, nil, rep, err
	}
	if emptyColumnOf(train, ti) {
		return nil, nil, rep, fmt.Errorf("data: %s: the target column %q has no values (every cell is missing): choose another --target", train.Path, opt.Target)
	}
	used := append(slices.Clone(feats), ti)
	kinds := make(map[int]ColumnKind, len(used))
	if err := columnKinds(train, used, kinds); err != nil {
		return nil, nil, rep, err
	}
	keep, err := presentRows(train, used, ti, kinds, opt.NA, &rep.File)
	if err != nil {
		return nil, nil, rep, err
	}

	enc := &Encoder{Target: opt.Target, TargetKind: kinds[ti], NA: opt.NA}
	task, reason, err := chooseTask(train, ti, keep, kinds[ti], opt.Task)
	if err != nil {
		return nil, nil, rep, err
	}
	enc.Task, rep.TaskReason = task, reason

	trainRows, testRows := keep, []int(nil)
	if test == nil {
		trainRows, testRows, err = heldOutRows(train, keep, ti, kinds[ti], task, opt)
		if err != nil {
			return nil, nil, rep, err
		}
	}

	// What the training rows teach; the rows training holds out for
	// validation teach nothing (fitRows are the rest).
	if task == TaskClassify {
		enc.Classes, err = fitClasses(train, trainRows, ti, kinds[ti], opt.Target, maxCat)
		if err != nil {
			return nil, nil, rep, err
		}
	}
	// The classes come from all the training rows, but they are those of
	// fitRows too: the validation split is stratified and keeps a row of
	// every class.
	fitRows, err := validationKept(train, trainRows, ti, kinds[ti], enc.Classes, opt)
	if err != nil {
		return nil, nil, rep, err
	}
	if task != TaskClassify {
		if err := checkVaries(train, ti, fitRows); err != nil {
			return nil, nil, rep, err
		}
		if err := checkSpread(train, ti, fitRows); err != nil {
			return nil, nil, rep, err
		}
	}
	enc.Columns, err = fitFeatures(train, feats, kinds, fitRows, opt, maxCat, &rep)
	if err != nil {
		return nil, nil, rep, err
	}

	split, err := encodeSplit(enc, train, test, trainRows, testRows, opt, &rep)
	if err != nil {
		return nil, nil, rep, err
	}
	return enc, split, rep, nil
}

// checkTableOptions checks opt for fitting the table at path (hasTest: a
// test table is given) and returns the category cap, the default for 0.
func checkTableOptions(path string, hasTest bool, opt Options) (maxCat int, err error) {
	maxCat = opt.MaxCategories
	switch {
	case opt.Target == "":
		return 0, fmt.Errorf("data: %s: no target column given", path)
	case opt.NA != NAError && opt.NA != NADrop && opt.NA != NAFill:
		return 0, fmt.Errorf("data: %s: unknown NA policy %v", path, opt.NA)
	case int(opt.Task) >= len(taskNames):
		return 0, fmt.Errorf("data: %s: unknown task %v", path, opt.Task)
	case maxCat < 0:
		return 0, fmt.Errorf("data: %s: category cap %d, want 0 (the default, %d) or more", path, maxCat, DefaultMaxCategories)
	case !hasTest && !(opt.TestFraction > 0 && opt.TestFraction < 1):
		return 0, fmt.Errorf("data: %s: test fraction %v, want a number between 0 and 1 (or a test file)", path, opt.TestFraction)
	case !(opt.ValFraction >= 0 && opt.ValFraction < 1):
		return 0, fmt.Errorf("data: %s: validation fraction %v, want 0 (none) or a number between 0 and 1", path, opt.ValFraction)
	}
	if maxCat == 0 {
		maxCat = DefaultMaxCategories
	}
	return maxCat, nil
}

// columnKinds sets kinds[j], for each of the columns used of t, to the
// column's kind, judged on the whole file.
func columnKinds(t *Table, used []int, kinds map[int]ColumnKind) error {
	for _, j := range used {
		k, err := columnKind(t, j)
		if err != nil {
			return err
		}
		kinds[j] = k
	}
	return nil
}

// presentRows returns the rows of t that take part: a missing cell in one
// of the used columns follows the NA policy na (NAError: an error; NADrop,
// or a missing target ti: the row is dropped and reported in file; NAFill:
// kept), and the numbers of number columns are checked finite. It sets
// file.Rows and file.Kept, and it is an error if no row remains.
func presentRows(t *Table, used []int, ti int, kinds map[int]ColumnKind, na NAPolicy, file *EncodeReport) ([]int, error) {
	order := slices.Clone(used)
	slices.Sort(order) // report the first bad cell of a row left to right
	keep := make([]int, 0, t.Rows())
rows:
	for i := range t.Rows() {
		for _, j := range order {
			cell := t.cells[i][j]
			if isNA(cell) {
				if na == NAError {
					return nil, naError(t, i, j, cell)
				}
				if na == NADrop || j == ti {
					file.drop(t.Line(i, j))
					continue rows
				}
				continue
			}
			if kinds[j] == Number {
				if _, err := numberCell(t, i, j); err != nil {
					return nil, err
				}
			}
		}
		keep = append(keep, i)
	}
	file.Rows, file.Kept = len(keep), keep
	if len(keep) == 0 {
		return nil, fmt.Errorf("data: %s: all %d rows were dropped for missing cells in the chosen columns (NA policy %v)", t.Path, t.Rows(), na)
	}
	return keep, nil
}

// heldOutRows splits the kept rows of t into training and test rows, holding
// out opt.TestFraction of them (seeded by opt.Seed), stratified by the class
// of the target column ti for classification. It is an error if either
// part is empty.
func heldOutRows(t *Table, keep []int, ti int, kind ColumnKind, task Task, opt Options) (trainRows, testRows []int, err error) {
	var strata []int
	groups := 0
	if task == TaskClassify {
		keys := make([]string, len(keep)) // class key per kept row
		for p, i := range keep {
			keys[p] = classKey(t, i, ti, kind)
		}
		all := sortedKeys(keys, kind == Number)
		pos := make(map[string]int, len(all))
		for k, v := range all {
			pos[v] = k
		}
		strata = make([]int, len(keys))
		for p, v := range keys {
			strata[p] = pos[v]
		}
		groups = len(all)
	}
	tr, te := data.HeldOut(len(keep), strata, groups, opt.TestFraction, opt.Seed)
	if len(te) == 0 || len(tr) == 0 {
		return nil, nil, fmt.Errorf("data: %s: holding out %g of %d rows leaves %d training and %d test rows; change the fraction or give a test file",
			t.Path, opt.TestFraction, len(keep), len(tr), len(te))
	}
	trainRows, testRows = make([]int, len(tr)), make([]int, len(te))
	for k, p := range tr {
		trainRows[k] = keep[p]
	}
	for k, p := range te {
		testRows[k] = keep[p]
	}
	return trainRows, testRows, nil
}

// fitClasses returns the classes of the target column ti (named target)
// in the training rows, sorted. It is an error if there is one class, or
// more than maxCat.
func fitClasses(t *Table, trainRows []int, ti int, kind ColumnKind, target string, maxCat int) ([]string, error) {
	tk := make([]string, len(trainRows))
	for k, i := range trainRows {
		tk[k] = classKey(t, i, ti, kind)
	}
	classes := sortedKeys(tk, kind == Number)
	switch {
	case len(classes) < 2:
		return nil, fmt.Errorf("data: %s: column %q: the target has one class, %q, in the training rows: nothing to learn", t.Path, target, classes[0])
	case len(classes) > maxCat:
		return nil, fmt.Errorf("data: %s: column %q: the target has %d classes in the training rows, more than the cap of %d (regress it with --task regress, or raise --max-categories)", t.Path, target, len(classes), maxCat)
	}
	return classes, nil
}

// fitFeatures fits the feature columns feats of t on fitRows and returns
// them, less those that hold one value in every such row: those are listed
// in rep.Constant when opt.Features is nil and are an error otherwise (and
// under NADrop when their missing cells dropped rows). It is an error if
// no column remains.
func fitFeatures(t *Table, feats []int, kinds map[int]ColumnKind, fitRows []int, opt Options, maxCat int, rep *Report) ([]Column, error) {
	var cols []Column
	for _, j := range feats {
		c, err := fitColumn(t, j, kinds[j], fitRows, opt.NA, maxCat)
		if err != nil {
			return nil, err
		}
		if v, ok := constantColumn(t, j, c, fitRows); ok {
			if opt.Features != nil {
				return nil, fmt.Errorf("data: %s: column %q holds one value, %q, in every training row: as an input it carries nothing to learn from; leave it out of --features",
					t.Path, c.Name, v)
			}
			if i, ok := firstMissing(t, j); ok && opt.NA == NADrop {
				// Leaving it out would keep rows its missing cells dropped:
				// the rows encoded later would not be the rows fitted.
				return nil, fmt.Errorf("data: %s: column %q holds one value, %q, in every training row, and its missing cells (line %d, …) dropped rows under NA policy drop: leave it out (--drop %s)",
					t.Path, c.Name, v, t.Line(i, j), c.Name)
			}
			rep.Constant = append(rep.Constant, ConstantColumn{Name: c.Name, Value: v})
			continue
		}
		cols = append(cols, c)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("data: %s: every feature column holds one value in every training row (%s): nothing to learn from",
			t.Path, constantList(rep.Constant))
	}
	return cols, nil
}

// encodeSplit encodes the training rows of train and the test rows: those
// of test, or testRows of train when test is nil. It sets rep.Train and
// rep.Test.
func encodeSplit(enc *Encoder, train, test *Table, trainRows, testRows []int, opt Options, rep *Report) (*data.Split, error) {
	path := train.Path
	base := filepath.Base(path)
	trainSet, trep, err := enc.encodeRows(train, trainRows, true, base+" (training rows)")
	if err != nil {
		return nil, err
	}
	var testSet *data.Set
	var terep EncodeReport
	source := path
	if test == nil {
		testSet, terep, err = enc.encodeRows(train, testRows, true, fmt.Sprintf("%s (held-out %g)", base, opt.TestFraction))
	} else {
		testSet, terep, err = enc.Encode(test, true)
		source = path + " and " + test.Path
	}
	if err != nil {
		return nil, err
	}
	rep.Train, rep.Test = trep, terep
	return &data.Split{Train: trainSet, Test: testSet, Source: source}, nil
}

// validationKept returns the training rows (rows of t) that training keeps
// when it holds out opt.ValFraction of the encoded training set for
// validation, as Set.HoldOut(opt.ValFraction, opt.ValSeed) draws them (nn.
// Train does): the rows Fit learns from. The draw needs only the
// number of rows and, for a classifier, each row's class index among
// classes, which it computes as the encoder will. Without a validation
// fraction it returns rows.
func validationKept(t *Table, rows []int, ti int, kind ColumnKind, classes []string, opt Options) ([]int, error) {
	if opt.ValFraction == 0 {
		return rows, nil
	}
	probe := &data.Set{Name: filepath.Base(t.Path) + " (training rows)", Rows: len(rows), Outputs: 1, Classes: len(classes)}
	if classes != nil {
		index := make(map[string]int, len(classes))
		for c, key := range classes {
			index[key] = c
		}
		probe.Labels = make([]float64, len(rows))
		for k, i := range rows {
			probe.Labels[k] = float64(index[classKey(t, i, ti, kind)])
		}
	}
	kept, _, err := probe.HoldOutRows(opt.ValFraction, opt.ValSeed)
	if err != nil {
		return nil, fmt.Errorf("data: %s: the validation rows: %w", t.Path, err)
	}
	out := make([]int, len(kept))
	for k, p := range kept {
		out[k] = rows[p]
	}
	return out, nil
}

// featureColumns resolves the feature columns of t.
func featureColumns(t *Table, ti int, features, drop []string) ([]int, error) {
	dropped := map[int]bool{}
	for _, d := range drop {
		j, err := t.column(d)
		if err != nil {
			return nil, err
		}
		if j == ti {
			return nil, fmt.Errorf("data: %s: column %q is the target; it cannot be dropped", t.Path, d)
		}
		dropped[j] = true
	}
	var out []int
	if features != nil {
		for k, f := range features {
			j, err := t.column(f)
			if err != nil {
				return nil, err
			}
			if j == ti {
				return nil, fmt.Errorf("data: %s: column %q is both a feature and the target", t.Path, f)
			}
			if slices.Contains(features[:k], f) {
				return nil, fmt.Errorf("data: %s: feature column %q given twice", t.Path, f)
			}
			if !dropped[j] {
				out = append(out, j)
			}
		}
	} else {
		for j, h := range t.Header {
			if j == ti || dropped[j] {
				continue
			}
			if h == "" {
				if emptyColumn(t, j) {
					continue
				}
				return nil, fmt.Errorf("data: %s: line 1: column %d has no name but holds values; name it in the header, or list the columns to use with --features", t.Path, j+1)
			}
			if _, err := t.column(h); err != nil {
				return nil, err // named twice
			}
			out = append(out, j)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("data: %s: no feature columns left besides the target %q", t.Path, t.Header[ti])
	}
	return out, nil
}

// emptyColumnOf reports whether every cell of column j is missing.
func emptyColumnOf(t *Table, j int) bool {
	for i := range t.Rows() {
		if !isNA(t.cells[i][j]) {
			return false
		}
	}
	return true
}

func emptyColumn(t *Table, j int) bool {
	for i := range t.Rows() {
		if t.cells[i][j] != "" {
			return false
		}
	}
	return true
}

// columnKind is Number when every present cell of column j parses as a
// number (finite or not: a non-finite one is reported later, with its
// line), Text otherwise. A column with no present cell is an error.
//
// A lone dash ("-", as some exports write a missing value) in a column
// whose other present cells are all numbers is an error naming the cell,
// not a silent switch of the column to text: such a column is meant to
// hold numbers, and a missing value is written empty or NA (then the NA
// policy applies).
func columnKind(t *Table, j int) (ColumnKind, error) {
	present, numbers, dash := false, false, -1
	for i := range t.Rows() {
		cell := t.cells[i][j]
		if isNA(cell) {
			continue
		}
		present = true
		switch {
		case parsesAsNumber(cell):
			numbers = true
		case isDash(cell):
			if dash < 0 {
				dash = i
			}
		default:
			return Text, nil
		}
	}
	switch {
	case !present:
		return "", fmt.Errorf("data: %s: column %q has no values (every cell is missing); leave it out (--drop %s)", t.Path, t.Header[j], t.Header[j])
	case dash >= 0 && numbers:
		return "", fmt.Errorf("data: %s: line %d, column %q: %q in a column of numbers: write a missing value as an empty cell or NA (the NA policy, --na, then applies), or correct the cell",
			t.Path, t.Line(dash, j), t.Header[j], t.cells[dash][j])
	case dash >= 0:
		return Text, nil
	}
	return Number, nil
}

// isDash reports whether cell is only dashes, as exports write a missing
// number: "-", "--", "–", "—".
func isDash(cell string) bool {
	return cell != "" && strings.Trim(cell, "-–—") == ""
}

func parsesAsNumber(cell string) bool {
	_, err := strconv.ParseFloat(cell, 64)
	return err == nil || errors.Is(err, strconv.ErrRange)
}

// chooseTask settles the task of target column ti over rows.
func chooseTask(t *Table, ti int, rows []int, kind ColumnKind, want Task) (Task, string, error) {
	name := t.Header[ti]
	if kind == Text {
		if want == TaskRegress {
			i := firstText(t, ti, rows)
			return 0, "", fmt.Errorf("data: %s: line %d, column %q: %q: the target holds text, which cannot be regressed (--task classify or auto)",
				t.Path, t.Line(i, ti), name, t.cells[i][ti])
		}
		return TaskClassify, fmt.Sprintf("the target %q holds text: classification", name), nil
	}
	distinct := map[float64]bool{}
	integers := true
	for _, i := range rows {
		v, _ := strconv.ParseFloat(t.cells[i][ti], 64)
		if v == 0 {
			v = 0
		}
		distinct[v] = true
		integers = integers && v == math.Trunc(v)
	}
	switch want {
	case TaskClassify:
		return TaskClassify, fmt.Sprintf("the target %q has %d distinct values; classification as asked", name, len(distinct)), nil
	case TaskRegress:
		return TaskRegress, fmt.Sprintf("the target %q holds numbers; regression as asked", name), nil
	}
	if integers && len(distinct) <= MaxAutoClasses {
		return TaskClassify, fmt.Sprintf("the target %q holds %d distinct integers (at most %d): classification (--task regress to override)", name, len(distinct), MaxAutoClasses), nil
	}
	what := "non-integer numbers"
	if integers {
		what = fmt.Sprintf("%d distinct integers (more than %d)", len(distinct), MaxAutoClasses)
	}
	return TaskRegress, fmt.Sprintf("the target %q holds %s: regression (--task classify to override)", name, what), nil
}

// firstText returns the first of rows whose cell in column j is present
// and not a number (rows[0] if there is none).
func firstText(t *Table, j int, rows []int) int {
	for _, i := range rows {
		if c := t.cells[i][j]; !isNA(c) && !parsesAsNumber(c) {
			return i
		}
	}
	return rows[0]
}

// classKey is the class of row i's target cell.
func classKey(t *Table, i, j int, kind ColumnKind) string {
	if kind == Number {
		v, _ := strconv.ParseFloat(t.cells[i][j], 64)
		return numberKey(v)
	}
	return t.cells[i][j]
}

// sortedKeys returns the distinct keys, sorted as numbers or as text.
func sortedKeys(keys []string, numeric bool) []string {
	out := slices.Clone(keys)
	if numeric {
		slices.SortFunc(out, func(a, b string) int {
			x, _ := strconv.ParseFloat(a, 64)
			y, _ := strconv.ParseFloat(b, 64)
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		})
	} else {
		slices.Sort(out)
	}
	return slices.Compact(out)
}

// checkVaries rejects a regression target that has one value in rows.
func checkVaries(t *Table, j int, rows []int) error {
	first, _ := strconv.ParseFloat(t.cells[rows[0]][j], 64)
	for _, i := range rows[1:] {
		if v, _ := strconv.ParseFloat(t.cells[i][j], 64); v != first {
			return nil
		}
	}
	return fmt.Errorf("data: %s: column %q: the target has the single value %v in the training rows: nothing to learn", t.Path, t.Header[j], first)
}

// checkSpread rejects a number column whose standard deviation over rows
// (its present cells) overflows the float64 range, as one cell of 1e160
// among ordinary values makes it: standardising the column would divide by
// infinity, and the model would learn nothing from it. The error names the
// cell farthest from the column's mean.
func checkSpread(t *Table, j int, rows []int) error {
	var sum float64
	n := 0
	for _, i := range rows {
		if v, ok := presentNumber(t, i, j); ok {
			sum += v
			n++
		}
	}
	if n == 0 {
		return nil
	}
	mean := sum / float64(n)
	if math.IsInf(mean, 0) { // a sum past the float64 range
		mean = 0
		for _, i := range rows {
			if v, ok := presentNumber(t, i, j); ok {
				mean += v / float64(n)
			}
		}
	}
	var ss float64
	for _, i := range rows {
		if v, ok := presentNumber(t, i, j); ok {
			ss += (v - mean) * (v - mean)
		}
	}
	if !math.IsInf(ss, 0) && !math.IsNaN(ss) {
		return nil
	}
	far, dist := rows[0], -1.0
	for _, i := range rows {
		if v, ok := presentNumber(t, i, j); ok && math.Abs(v/2-mean/2) > dist {
			far, dist = i, math.Abs(v/2-mean/2)
		}
	}
	return fmt.Errorf("data: %s: line %d, column %q: %s is too far from the column's other values: their standard deviation over the training rows overflows the float64 range, so the column cannot be standardised; correct or remove the row, or rescale the column",
		t.Path, t.Line(far, j), t.Header[j], t.cells[far][j])
}

// presentNumber parses row i, column j when it holds a finite number.
func presentNumber(t *Table, i, j int) (float64, bool) {
	cell := t.cells[i][j]
	if isNA(cell) {
		return 0, false
	}
	v, err := strconv.ParseFloat(cell, 64)
	return v, err == nil && !math.IsInf(v, 0) && !math.IsNaN(v)
}

// fitColumn learns the encoding of column j from the training rows.
func fitColumn(t *Table, j int, kind ColumnKind, rows []int, na NAPolicy, maxCat int) (Column, error) {
	c := Column{Name: t.Header[j], Kind: kind}
	present, missing := 0, false
	var sum float64
	var cats []string
	for _, i := range rows {
		cell := t.cells[i][j]
		if isNA(cell) {
			missing = true
			continue
		}
		present++
		if kind == Number {
			v, _ := strconv.ParseFloat(cell, 64)
			sum += v
		} else {
			cats = append(cats, cell)
		}
	}
	if present == 0 {
		return c, fmt.Errorf("data: %s: column %q has no values in the training rows (every one is missing); leave it out (--drop %s)", t.Path, c.Name, c.Name)
	}
	if kind == Number {
		if err := checkSpread(t, j, rows); err != nil {
			return c, err
		}
		if na == NAFill {
			c.Fill = sum / float64(present)
			if math.IsInf(c.Fill, 0) { // a sum past the float64 range
				var m float64
				for _, i := range rows {
					if v, err := strconv.ParseFloat(t.cells[i][j], 64); err == nil {
						m += v / float64(present)
					}
				}
				c.Fill = m
			}
		}
		return c, nil
	}
	c.Categories = sortedKeys(cats, false)
	c.Missing = missing && na == NAFill
	if len(c.Categories) > maxCat {
		why := ""
		if i := firstText(t, j, rows); mostlyNumbers(t, j, rows) {
			why = fmt.Sprintf(" (it would be a number column but line %d holds %q)", t.Line(i, j), t.cells[i][j])
		}
		return c, fmt.Errorf("data: %s: column %q holds text with %d distinct values in the training rows, more than the cap of %d categories%s; leave it out (--drop %s, or list the columns to use with --features) or raise --max-categories",
			t.Path, c.Name, len(c.Categories), maxCat, why, c.Name)
	}
	return c, nil
}

// mostlyNumbers reports whether more than half of the present cells of
// column j in rows parse as numbers.
func mostlyNumbers(t *Table, j int, rows []int) bool {
	num, present := 0, 0
	for _, i := range rows {
		if c := t.cells[i][j]; !isNA(c) {
			present++
			if parsesAsNumber(c) {
				num++
			}
		}
	}
	return 2*num > present
}

// Split encodes the rows of train and test with enc, as Fit does but
// without learning anything: e.g. to go on training a saved model on its
// table. When test is nil the test set is the seeded held-out fraction of
// train's encoded rows (data.HeldOut, stratified by class for classification),
// which on the file and options Fit saw is the same split.
func (enc *Encoder) Split(train, test *Table, frac float64, seed uint64) (*data.Split, Report, error) {
	var rep Report
	if test == nil && !(frac > 0 && frac < 1) {
		return nil, rep, fmt.Errorf("data: %s: test fraction %v, want a number between 0 and 1 (or a test file)", train.Path, frac)
	}
	all, frep, err := enc.Encode(train, true)
	if err != nil {
		return nil, rep, err
	}
	rep.File = frep
	rep.TaskReason = fmt.Sprintf("the target %q: %v, as the model was trained", enc.Target, enc.Task)
	base := filepath.Base(train.Path)
	if test != nil {
		ts, terep, err := enc.Encode(test, true)
		if err != nil {
			return nil, rep, err
		}
		all.Name = base
		rep.Train, rep.Test = frep, terep
		return &data.Split{Train: all, Test: ts, Source: train.Path + " and " + test.Path}, rep, nil
	}
	var strata []int
	if enc.Task == TaskClassify {
		strata = make([]int, all.Rows)
		for i := range strata {
			strata[i] = all.Label(i)
		}
	}
	tr, te := data.HeldOut(all.Rows, strata, len(enc.Classes), frac, seed)
	if len(tr) == 0 || len(te) == 0 {
		return nil, rep, fmt.Errorf("data: %s: holding out %g of %d rows leaves %d training and %d test rows; change the fraction or give a test file",
			train.Path, frac, all.Rows, len(tr), len(te))
	}
	pick := func(pos []int, name string) (*data.Set, EncodeReport) {
		r := EncodeReport{Rows: len(pos), Kept: make([]int, len(pos))}
		for k, p := range pos {
			r.Kept[k] = frep.Kept[p]
		}
		return all.Take(pos, name), r
	}
	trs, trep := pick(tr, base+" (training rows)")
	tes, terep := pick(te, fmt.Sprintf("%s (held-out %g)", base, frac))
	rep.Train, rep.Test = trep, terep
	return &data.Split{Train: trs, Test: tes, Source: train.Path}, rep, nil
}

// constantColumn reports whether column j, fitted as c, gives every row of
// rows the same input, and the value: a number column whose present cells
// are all equal (a missing one is dropped, or filled with their mean, the
// same value), or a text column of one category and no missing cells.
func constantColumn(t *Table, j int, c Column, rows []int) (string, bool) {
	if c.Kind == Text {
		if len(c.Categories) == 1 && !c.Missing {
			return c.Categories[0], true
		}
		return "", false
	}
	first, v0 := "", 0.0
	for _, i := range rows {
		cell := t.cells[i][j]
		if isNA(cell) {
			continue
		}
		v, _ := strconv.ParseFloat(cell, 64)
		if first == "" {
			first, v0 = cell, v
		} else if v != v0 {
			return "", false
		}
	}
	return first, first != ""
}

// firstMissing returns the first row whose cell in column j is missing.
func firstMissing(t *Table, j int) (int, bool) {
	for i := range t.Rows() {
		if isNA(t.cells[i][j]) {
			return i, true
		}
	}
	return 0, false
}

func constantList(cs []ConstantColumn) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%q always %q", c.Name, c.Value)
	}
	return strings.Join(parts, ", ")
}
