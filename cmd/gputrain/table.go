package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/fit"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/table"
)

// tableFlags are train's flags for a CSV table (--csv and its company).
type tableFlags struct {
	csv, target, features, drop, na, task, testCSV string
	testFraction                                   float64
	splitSeed                                      uint64
	maxCategories                                  int
}

func addTableFlags(fs *flag.FlagSet) *tableFlags {
	t := &tableFlags{}
	d := table.Defaults("")
	fs.StringVar(&t.csv, "csv", "", "train on the CSV table in `FILE` (a header row of column names, then one row per example) instead of --data")
	fs.StringVar(&t.target, "target", "", "with --csv: the `COLUMN` to predict")
	fs.StringVar(&t.features, "features", "", "with --csv: the feature `COLUMNS`, comma-separated (default: every other column)")
	fs.StringVar(&t.drop, "drop", "", "with --csv: `COLUMNS` to leave out of the features, e.g. an Id")
	fs.StringVar(&t.na, "na", d.NA.String(), "with --csv: missing cells (empty, NA, N/A, NaN, null, ?): error (stop and name the cell), drop (skip the row) or fill (training mean for numbers, a category of its own for text)")
	fs.StringVar(&t.task, "task", d.Task.String(), fmt.Sprintf("with --csv: auto, classify or regress; auto classifies a text target or one of at most %d distinct integers, and regresses other numbers", table.MaxAutoClasses))
	fs.StringVar(&t.testCSV, "test-csv", "", "with --csv: test on the table in `FILE` instead of a held-out part of --csv")
	fs.Float64Var(&t.testFraction, "test-fraction", d.TestFraction, "with --csv and no --test-csv: the share of rows held out for testing (stratified by class when classifying)")
	fs.Uint64Var(&t.splitSeed, "split-seed", d.Seed, "with --csv: seed of the held-out split (independent of --seed)")
	fs.IntVar(&t.maxCategories, "max-categories", d.MaxCategories, "with --csv: the most distinct values one text column may have (each becomes an input)")
	return t
}

// tableDefaults are train's defaults for a table where they differ from
// those for images: the library's (fit.DefaultsFor), which small tables
// want: more passes, smaller batches and ReLU units. The epochs depend on
// the task (tableEpochs). A flag given on the command line wins.
var tableDefaults = func() map[string]string {
	d := fit.DefaultsFor(fit.Classes)
	return map[string]string{
		"lr":         strconv.FormatFloat(d.LR, 'g', -1, 64),
		"hidden":     intList(d.Hidden),
		"activation": d.Activation.String(),
		"batch":      strconv.Itoa(d.Batch),
	}
}()

// tableEpochs are the default epochs for a table, by task.
var tableEpochs = map[table.Task]int{
	table.TaskClassify: fit.DefaultsFor(fit.Classes).Epochs,
	table.TaskRegress:  fit.DefaultsFor(fit.Values).Epochs,
}

// withTableDefaults applies tableDefaults to the flags of fs not given on
// the command line, when --csv is.
func (t *tableFlags) withTableDefaults(fs *flag.FlagSet) error {
	if t.csv == "" {
		return nil
	}
	if err := setUnset(fs, tableDefaults); err != nil {
		return fmt.Errorf("table default %w", err)
	}
	return nil
}

// tableOnly are the flags that mean something only with --csv.
var tableOnly = []string{"target", "features", "drop", "na", "task", "test-csv", "test-fraction", "split-seed", "max-categories"}

// loadTrainData loads what train trains on: the table of --csv, with the
// encoding that makes its inputs (fitted to the training rows less the
// val share that training holds out for validation with valSeed, or the
// --resume checkpoint's), or else the data set --data names. Table flags
// without --csv, and --data or --digits with it, are usage errors.
func loadTrainData(e *env, fs *flag.FlagSet, t *tableFlags, dataName string, digits []int, resume string, val float64, valSeed uint64) (*data.Split, *table.Encoder, error) {
	set := setFlags(fs)
	if t.csv == "" {
		for _, name := range tableOnly {
			if set[name] {
				return nil, nil, usagef("--%s needs --csv", name)
			}
		}
		split, err := loadData(dataName, digits)
		return split, nil, err
	}
	if set["data"] || set["digits"] {
		return nil, nil, usagef("--csv and --data/--digits are two data sources: give one")
	}
	if t.target == "" {
		return nil, nil, usagef("--csv needs --target COLUMN (the column to predict)")
	}
	if t.testCSV != "" && set["test-fraction"] {
		return nil, nil, usagef("--test-csv and --test-fraction are two test sets (a table of its own, or a held-out share of --csv): give one")
	}
	if t.testCSV != "" && sameFile(t.testCSV, t.csv) {
		fmt.Fprintf(e.stderr, "warning: --test-csv %s is the --csv table itself: the test figures are on the training rows and say nothing about new data\n", t.testCSV)
	}
	opt, err := t.options()
	if err != nil {
		return nil, nil, err
	}
	opt.ValFraction, opt.ValSeed = val, valSeed
	train, err := table.ReadContext(e.ctx, t.csv)
	if err != nil {
		return nil, nil, err
	}
	noteEncoding(e, train)
	var test *table.Table
	if t.testCSV != "" {
		if test, err = table.ReadContext(e.ctx, t.testCSV); err != nil {
			return nil, nil, err
		}
		noteEncoding(e, test)
	}
	var (
		enc   *table.Encoder
		split *data.Split
		rep   table.Report
	)
	if resume != "" {
		if _, _, enc, err = nn.LoadInfo(resume); err != nil {
			return nil, nil, err
		}
		if enc == nil {
			return nil, nil, fmt.Errorf("%s: this model was not trained on a table (its checkpoint has no table encoding)", resume)
		}
		if enc.Target != t.target {
			return nil, nil, fmt.Errorf("%s: the model predicts %q, not --target %q", resume, enc.Target, t.target)
		}
		split, rep, err = enc.Split(train, test, t.testFraction, t.splitSeed)
	} else {
		enc, split, rep, err = table.Fit(train, test, opt)
	}
	if err != nil {
		return nil, nil, err
	}
	if !set["epochs"] {
		if err := fs.Set("epochs", strconv.Itoa(tableEpochs[enc.Task])); err != nil {
			return nil, nil, err
		}
	}
	// train's L2 for a classifier (fit.DefaultsFor(fit.Classes).WeightDecay),
	// unless given or adamw's own default applies; sweep's grid lists its
	// weight decays itself.
	if wd := fit.DefaultsFor(fit.Classes).WeightDecay; fs.Name() == "train" && !set["weight-decay"] && enc.Task == table.TaskClassify &&
		fs.Lookup("optimizer").Value.String() != nn.AdamW.String() {
		if err := fs.Set("weight-decay", strconv.FormatFloat(wd, 'g', -1, 64)); err != nil {
			return nil, nil, err
		}
	}
	t.note(e, train, test, enc, rep)
	return split, enc, nil
}

// options checks the table flags and turns them into table.Options.
func (t *tableFlags) options() (table.Options, error) {
	opt := table.Options{Target: t.target, Features: columnList(t.features), Drop: columnList(t.drop),
		MaxCategories: t.maxCategories, TestFraction: t.testFraction, Seed: t.splitSeed}
	var err error
	if opt.NA, err = table.ParseNAPolicy(t.na); err != nil {
		return opt, usagef("--na: %v", err)
	}
	if opt.Task, err = table.ParseTask(t.task); err != nil {
		return opt, usagef("--task: %v", err)
	}
	if t.maxCategories < 1 {
		return opt, usagef("--max-categories %d must be at least 1", t.maxCategories)
	}
	if t.testCSV == "" && !(t.testFraction > 0 && t.testFraction < 1) {
		return opt, usagef("--test-fraction %v must be between 0 and 1", t.testFraction)
	}
	return opt, nil
}

// note tells how the table was encoded: its columns, inputs and task, the
// classes, the columns left out and what encoding did to the rows.
func (t *tableFlags) note(e *env, train, test *table.Table, enc *table.Encoder, rep table.Report) {
	numbers, texts := 0, 0
	for _, c := range enc.Columns {
		if c.Kind == table.Number {
			numbers++
		} else {
			texts++
		}
	}
	fmt.Fprintf(e.stderr, "table:  %d columns: %d number and %d text features → %d inputs; %s\n",
		len(train.Header), numbers, texts, enc.Width(), rep.TaskReason)
	if enc.Task == table.TaskClassify {
		fmt.Fprintf(e.stderr, "        classes: %s\n", sanitize(strings.Join(enc.Classes, ", ")))
	}
	for _, c := range rep.Constant {
		fmt.Fprintf(e.stderr, "        left out column %q: %q in every training row, nothing to learn from\n", c.Name, c.Value)
	}
	noteRows(e, t.csv, rep.File)
	if test != nil {
		noteRows(e, t.testCSV, rep.Test)
	}
}

// columnList splits a comma-separated list of column names; "" is nil.
func columnList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		out = append(out, strings.TrimSpace(f))
	}
	return out
}

// noteRows tells what encoding a table did besides encoding: rows dropped,
// cells filled, categories unseen in training.
func noteRows(e *env, path string, r table.EncodeReport) {
	if r.Dropped > 0 {
		lines := make([]string, len(r.DroppedLines))
		for i, l := range r.DroppedLines {
			lines[i] = strconv.Itoa(l)
		}
		more := ""
		if r.Dropped > len(lines) {
			more = ", …"
		}
		fmt.Fprintf(e.stderr, "        %s: dropped %d rows with missing cells (lines %s%s)\n", path, r.Dropped, strings.Join(lines, ", "), more)
	}
	if r.Filled > 0 {
		fmt.Fprintf(e.stderr, "        %s: filled %d missing cells\n", path, r.Filled)
	}
	if r.Unseen > 0 {
		fmt.Fprintf(e.stderr, "        %s: %d text cells hold a category the training rows did not have (no input set), e.g. %s\n", path, r.Unseen, r.UnseenExample)
	}
}

// setRegression fills the regression fields of a train or eval result.
func (r *trainResult) setRegression(rm nn.RegressionMetrics) {
	r.TestRMSE, r.TestMAE = &rm.RMSE, &rm.MAE
	if !math.IsNaN(rm.R2) {
		r.TestR2 = &rm.R2
	}
}

// MarshalJSON writes r with accuracies that are NaN (a regression model has
// none) left out, and any other non-finite figure as null (marshalFinite):
// JSON has no NaN.
func (r trainResult) MarshalJSON() ([]byte, error) {
	type plain trainResult // the same fields, without this method
	var test, train *float64
	if !math.IsNaN(r.TestAccuracy) {
		test = &r.TestAccuracy
	}
	if !math.IsNaN(r.TrainAccuracy) && r.TrainAccuracy != 0 {
		train = &r.TrainAccuracy
	}
	return marshalFinite(struct {
		plain
		TestAccuracy  *float64 `json:"test_accuracy,omitempty"`
		TrainAccuracy *float64 `json:"train_accuracy,omitempty"`
	}{plain(r), test, train})
}

// testSummary describes an evaluation: loss and accuracy, or for regression
// loss (in standardised units), RMSE, MAE and R² in the target's units.
func testSummary(sc nn.Score, name string) string {
	return fmt.Sprintf("%v of %s", sc, name)
}

// evaluate scores m on s by its head (nn.Model.Score).
func evaluate(m *nn.Model, s *data.Set, batch int) (nn.Score, error) {
	sc, err := m.Score(s, batch)
	if err != nil {
		return sc, fmt.Errorf("evaluate on %s: %w", s.Name, err)
	}
	return sc, nil
}

// loadTableModel reads the table of --csv, opens the device and loads the
// model, which must have been trained on a table. --data and --digits do
// not go with --csv.
func loadTableModel(e *env, fs *flag.FlagSet, f modelFlags) (*nn.Ensemble, func(), *table.Table, error) {
	if *f.model == "" {
		return nil, nil, nil, usagef("--model is required")
	}
	if set := setFlags(fs); set["data"] || set["digits"] {
		return nil, nil, nil, usagef("--csv and --data/--digits are two data sources: give one")
	}
	if err := checkDevice(*f.device); err != nil {
		return nil, nil, nil, err
	}
	tbl, err := table.ReadContext(e.ctx, *f.csv)
	if err != nil {
		return nil, nil, nil, err
	}
	noteEncoding(e, tbl)
	b, why, err := openDevice(*f.device, false)
	if err != nil {
		return nil, nil, nil, err
	}
	announce(e, b, why, false)
	m, err := nn.LoadEnsemble(*f.model, b)
	if err != nil {
		b.Close()
		return nil, nil, nil, err
	}
	if m.Members[0].Table == nil {
		m.Free()
		b.Close()
		return nil, nil, nil, fmt.Errorf("%s: this model was not trained on a table (its checkpoint has no table encoding): use --data as in its training", *f.model)
	}
	return m, func() { m.Free(); b.Close() }, tbl, nil
}

// evalTable is eval --csv: the model's loss and accuracy, or loss, RMSE,
// MAE and R², on every row of the table (its target column needed).
func evalTable(e *env, fs *flag.FlagSet, f modelFlags) error {
	ens, done, tbl, err := loadTableModel(e, fs, f)
	if err != nil {
		return err
	}
	defer done()
	m := ens.Members[0]
	s, rep, err := m.Table.Encode(tbl, true)
	if err != nil {
		return err
	}
	noteRows(e, tbl.Path, rep)
	sc, err := ens.Score(s, 1024)
	if err != nil {
		return fmt.Errorf("evaluate on %s: %w", s.Name, err)
	}
	res := trainResult{Data: tbl.Path, Model: m.Spec.String(), Epochs: m.Info.Epoch, TestLoss: sc.Loss, TestAccuracy: sc.Accuracy}
	var cm nn.ConfusionMatrix
	if sc.Regression != nil {
		res.setRegression(*sc.Regression)
	} else {
		if cm, err = confusionOf(ens, ens.Spec().Classes(), s); err != nil {
			return err
		}
		res.setConfusion(cm)
	}
	fillDevice(&res, m.Backend().Info())
	mean, err := res.setMembers(ens, s)
	if err != nil {
		return err
	}
	if *f.json {
		return writeJSON(e.stdout, res)
	}
	what := "test"
	if ens.Len() > 1 {
		what = fmt.Sprintf("test, ensemble of %d", ens.Len())
	}
	fmt.Fprintf(e.stdout, "%s: %s\n", what, testSummary(sc, tbl.Path))
	printMembers(e.stdout, ens, mean)
	if cm != nil {
		fmt.Fprintf(e.stdout, "balanced accuracy %.2f%%\n", 100*cm.BalancedAccuracy())
		printConfusion(e.stdout, cm, m.Table.Classes)
	}
	return nil
}

// tablePrediction is one row of predict --csv --json.
type tablePrediction struct {
	// Row is the data row of the input, from 1 (the header is not a row).
	Row int `json:"row"`
	// Predicted is the class name or the number; null for a row skipped
	// for a missing cell (NA policy drop).
	Predicted any `json:"predicted"`
	// Probabilities maps each class to its probability (classifiers).
	Probabilities map[string]float64 `json:"probabilities,omitempty"`
}

// predictTable is predict --csv: one prediction per row of the table, as a
// CSV file (--out, or stdout) or JSON.
func predictTable(e *env, fs *flag.FlagSet, f modelFlags, out output) error {
	m, done, tbl, err := loadTableModel(e, fs, f)
	if err != nil {
		return err
	}
	defer done()
	enc := m.Members[0].Table
	s, rep, err := enc.Encode(tbl, false)
	if err != nil {
		return err
	}
	noteRows(e, tbl.Path, rep)
	pred, err := m.Predict(s, 1024)
	if err != nil {
		return err
	}
	tp := newTablePredictions(enc, pred, tbl.Rows(), rep.Kept)
	if *f.json {
		out := map[string]any{"model": m.Spec().String(), "data": tbl.Path, "target": enc.Target, "predictions": tp.rows()}
		if m.Len() > 1 {
			out["ensemble"] = m.Len()
		}
		return writeJSON(e.stdout, out)
	}
	if out.path == "" {
		return tp.writeCSV(e.stdout)
	}
	p, err := writeOutput(out, writeFile(tp.writeCSV))
	if p == "" {
		return fmt.Errorf("writing predictions: %w", err)
	}
	fmt.Fprintf(e.stderr, "predictions for %d rows written to %s\n", tbl.Rows(), p)
	return err
}

// tablePredictions are predict --csv's predictions, by row of the table.
type tablePredictions struct {
	enc  *table.Encoder
	pred nn.Predictions
	// byRow is the encoded row of each input row, or -1.
	byRow []int
}

// newTablePredictions lays out pred, a model's predictions for the rows of
// a table of rows rows that enc kept (kept holds each encoded row's row in
// the table).
func newTablePredictions(enc *table.Encoder, pred nn.Predictions, rows int, kept []int) *tablePredictions {
	byRow := make([]int, rows)
	for i := range byRow {
		byRow[i] = -1
	}
	for k, i := range kept {
		byRow[i] = k
	}
	return &tablePredictions{enc: enc, pred: pred, byRow: byRow}
}

// rows returns the predictions as predict --csv --json gives them.
func (tp *tablePredictions) rows() []tablePrediction {
	enc, pred := tp.enc, tp.pred
	rows := make([]tablePrediction, len(tp.byRow))
	for i, k := range tp.byRow {
		rows[i].Row = i + 1
		switch {
		case k < 0:
		case enc.Task == table.TaskClassify:
			rows[i].Predicted = enc.Classes[pred.Classes[k]]
			rows[i].Probabilities = map[string]float64{}
			for c, p := range tp.pred.Probs(k) {
				rows[i].Probabilities[enc.Classes[c]] = p
			}
		default:
			rows[i].Predicted = pred.Outputs[k][0]
		}
	}
	return rows
}

// writeCSV writes the predictions to w as CSV: the row, the prediction
// and, for a classifier, each class's probability.
func (tp *tablePredictions) writeCSV(w io.Writer) error {
	enc, pred := tp.enc, tp.pred
	cw := csv.NewWriter(w)
	header := []string{"row", enc.Target}
	for _, c := range enc.Classes {
		header = append(header, "p("+c+")")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, len(header))
	for i, k := range tp.byRow {
		clear(rec)
		rec[0] = strconv.Itoa(i + 1)
		switch {
		case k < 0:
		case enc.Task == table.TaskClassify:
			rec[1] = enc.Classes[pred.Classes[k]]
			for c, p := range tp.pred.Probs(k) {
				rec[2+c] = strconv.FormatFloat(p, 'f', 6, 64)
			}
		default:
			rec[1] = strconv.FormatFloat(pred.Outputs[k][0], 'g', 10, 64)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// noteEncoding says when a table was not UTF-8: its cells were read as
// Windows-1252 (Latin-1), the same way at every reading.
func noteEncoding(e *env, t *table.Table) {
	if t.NotUTF8 > 0 {
		fmt.Fprintf(e.stderr, "note:   %s: %d cells are not UTF-8 (the first on line %d): read as Windows-1252 (Latin-1)\n", t.Path, t.NotUTF8, t.NotUTF8Line)
	}
}
