package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"text/tabwriter"

	"github.com/gputrain/gputrain/internal/jsonnum"

	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/nn"
)

func init() {
	register(&command{name: "eval", summary: "evaluate a saved model on a data set's test split or a CSV table", run: runEval})
	register(&command{name: "predict", summary: "predict with a saved model (images, or every row of a CSV table)", run: runPredict})
}

// dataSplit is a loaded split with the name to report.
type dataSplit struct {
	name  string
	split *data.Split
}

// headRows returns the first n rows of s (all of them if it has fewer).
func headRows(s *data.Set, n int) *data.Set {
	if n >= s.Rows {
		return s
	}
	h := *s
	h.Rows = n
	if s.Pixels != nil {
		h.Pixels = s.Pixels[:n*s.Cols]
	}
	if s.Features != nil {
		h.Features = s.Features[:n*s.Cols]
	}
	h.Labels = s.Labels[:n*max(s.Outputs, 1)]
	return &h
}

func sqrt(x float64) float64 { return math.Sqrt(x) }

// loadForData opens the device, loads the model and the data, and checks
// that they fit each other.
// --digits left out takes the classes the checkpoint says the model was
// trained on; given, it must name them.
func loadForData(e *env, modelPath, dataName, digitsFlag, device string) (*nn.Ensemble, func(), *dataSplit, error) {
	digits, err := parseInts("digits", digitsFlag, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkDevice(device); err != nil {
		return nil, nil, nil, err
	}
	spec, info, table, err := nn.LoadInfo(modelPath)
	if err != nil {
		return nil, nil, nil, err
	}
	if table != nil {
		return nil, nil, nil, fmt.Errorf("%s: this model was trained on a table (target %q): use --csv FILE", modelPath, table.Target)
	}
	switch {
	case digits != nil && info.Subset != nil && !slices.Equal(digits, info.Subset):
		return nil, nil, nil, fmt.Errorf("%s: --digits %s contradicts the model, trained on classes %s of its data; leave --digits out (the model's are used)",
			modelPath, intList(digits), intList(info.Subset))
	case digits == nil && info.Subset != nil:
		digits = info.Subset
		fmt.Fprintf(e.stderr, "data:   classes %s, from the model\n", intList(digits))
	}
	split, err := loadData(dataName, digits)
	if err != nil {
		return nil, nil, nil, err
	}
	// The model and the data must fit each other before a device is opened.
	if spec.Inputs != split.Test.Cols {
		return nil, nil, nil, fmt.Errorf("%s: the model takes %d inputs but %s has %d features per row", modelPath, spec.Inputs, split.Test.Name, split.Test.Cols)
	}
	if want := spec.Classes(); want != split.Test.Classes {
		return nil, nil, nil, fmt.Errorf("%s: the model predicts %d classes but %s has %d (use --digits as when it was trained)", modelPath, want, split.Test.Name, split.Test.Classes)
	}
	b, why, err := openDevice(device, false)
	if err != nil {
		return nil, nil, nil, err
	}
	announce(e, b, why, false)
	m, err := nn.LoadEnsemble(modelPath, b)
	if err != nil {
		b.Close()
		return nil, nil, nil, err
	}
	return m, func() { m.Free(); b.Close() }, &dataSplit{split.Test.Name, split}, nil
}

// modelFlags are the flags eval and predict share.
type modelFlags struct {
	model, data, digits, device, csv *string
	json                             *bool
}

func addModelFlags(fs *flag.FlagSet) modelFlags {
	return modelFlags{
		model:  fs.String("model", "", "checkpoint `FILE` written by train --save"),
		data:   fs.String("data", "digits", dataHelp),
		digits: fs.String("digits", "", "keep only these classes, as in training"),
		device: fs.String("device", "auto", deviceHelp),
		json:   fs.Bool("json", false, "print one JSON object on stdout"),
		csv:    fs.String("csv", "", "a CSV table in `FILE`, for a model trained with train --csv, instead of --data"),
	}
}

// load checks the flags and loads the model (an ensemble of one or more
// models) and the data.
func (f modelFlags) load(e *env) (*nn.Ensemble, func(), *dataSplit, error) {
	if *f.model == "" {
		return nil, nil, nil, usagef("--model is required")
	}
	return loadForData(e, *f.model, *f.data, *f.digits, *f.device)
}

func runEval(e *env, args []string) error {
	fs := newFlags(e, "eval", "--model FILE [--data ... | --csv FILE] [flags]")
	mf := addModelFlags(fs)
	asJSON := mf.json
	if err := parse(fs, args); err != nil {
		return err
	}
	if *mf.csv != "" {
		return evalTable(e, fs, mf)
	}
	ens, done, ds, err := mf.load(e)
	if err != nil {
		return err
	}
	defer done()
	m := ens.Members[0]
	ev, err := ens.Evaluate(ds.split.Test, 1024)
	if err != nil {
		return err
	}
	res := trainResult{Data: ds.name, Synthetic: ds.split.Synthetic, Model: m.Spec.String(), Epochs: m.Info.Epoch, TestLoss: ev.Loss, TestAccuracy: ev.Accuracy}
	fillDevice(&res, m.Backend().Info())
	cm, err := confusionOf(ens, ens.Spec().Classes(), ds.split.Test)
	if err != nil {
		return err
	}
	res.setConfusion(cm)
	mean, err := res.setMembers(ens, ds.split.Test)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, res)
	}
	what := "test"
	if ens.Len() > 1 {
		what = fmt.Sprintf("test, ensemble of %d", ens.Len())
	}
	fmt.Fprintf(e.stdout, "%s: loss %.4f, accuracy %.2f%%, balanced accuracy %.2f%% on %d rows of %s\n", what, ev.Loss, 100*ev.Accuracy, 100*cm.BalancedAccuracy(), ev.Rows, ds.name)
	printMembers(e.stdout, ens, mean)
	printConfusion(e.stdout, cm, nil)
	return nil
}

// setMembers, for an ensemble of more than one model, scores each member
// alone on s and records their mean beside the ensemble's figures; it
// returns that mean (nil for a single model).
func (r *trainResult) setMembers(ens *nn.Ensemble, s *data.Set) (*nn.Score, error) {
	if ens.Len() < 2 {
		return nil, nil
	}
	mean, err := ens.MembersScore(s, 1024)
	if err != nil {
		return nil, fmt.Errorf("evaluate the members on %s: %w", s.Name, err)
	}
	r.Ensemble = ens.Len()
	r.MembersTestLoss = &mean.Loss
	if !math.IsNaN(mean.Accuracy) {
		r.MembersTestAccuracy = &mean.Accuracy
	}
	if rm := mean.Regression; rm != nil {
		r.MembersTestRMSE, r.MembersTestMAE = &rm.RMSE, &rm.MAE
		r.MembersTestR2 = jsonnum.Ptr(rm.R2)
	}
	return &mean, nil
}

// printMembers prints the members' mean figures under an ensemble's.
func printMembers(w io.Writer, ens *nn.Ensemble, mean *nn.Score) {
	if mean == nil {
		return
	}
	fmt.Fprintf(w, "test, members' mean (%d models alone): %v\n", ens.Len(), *mean)
}

// predictor is a model or an ensemble of them.
type predictor interface {
	Predict(s *data.Set, batch int) (nn.Predictions, error)
}

// confusionOf predicts every row of test with a classifier of classes
// classes and counts the predictions by true class.
func confusionOf(m predictor, classes int, test *data.Set) (nn.ConfusionMatrix, error) {
	pred, err := m.Predict(test, 1024)
	if err != nil {
		return nil, fmt.Errorf("predict %s: %w", test.Name, err)
	}
	return nn.Confusion(classes, test.Labels, pred.Classes)
}

// setConfusion fills the result's classification figures from cm.
func (r *trainResult) setConfusion(cm nn.ConfusionMatrix) {
	r.BalancedAccuracy = jsonnum.Ptr(cm.BalancedAccuracy())
	for _, v := range cm.Recall() {
		r.Recall = append(r.Recall, jsonnum.Ptr(v))
	}
	r.Confusion = cm
}

// printConfusion prints cm with a row per true class, a column per
// predicted class and each class's recall. The classes are named by names
// (a table's class values) or, for nil, by their indices.
func printConfusion(w io.Writer, cm nn.ConfusionMatrix, names []string) {
	name := func(i int) string {
		if i < len(names) {
			return names[i]
		}
		return strconv.Itoa(i)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	head := "true\\predicted\t"
	for j := range cm {
		head += name(j) + "\t"
	}
	fmt.Fprintln(tw, head+"recall\t")
	recall := cm.Recall()
	for i, row := range cm {
		line := name(i) + "\t"
		for _, v := range row {
			line += strconv.Itoa(v) + "\t"
		}
		rec := "-"
		if !math.IsNaN(recall[i]) {
			rec = fmt.Sprintf("%.2f%%", 100*recall[i])
		}
		fmt.Fprintln(tw, line+rec+"\t")
	}
	tw.Flush()
}

func runPredict(e *env, args []string) error {
	fs := newFlags(e, "predict", "--model FILE [--data ... [--n N] | --csv FILE [--out PRED.csv]] [flags]")
	mf := addModelFlags(fs)
	asJSON := mf.json
	n := fs.Int("n", 10, "with --data: predict the first N rows of the test split")
	out := fs.String("out", "", "with --csv: write the predictions (CSV: row, the predicted target, class probabilities) to `FILE` instead of stdout")
	if err := parse(fs, args); err != nil {
		return err
	}
	if set := setFlags(fs); *mf.csv != "" && set["n"] {
		return usagef("--n goes with --data; --csv predicts every row")
	} else if *mf.csv == "" && set["out"] {
		return usagef("--out goes with --csv")
	}
	if *mf.csv != "" {
		o := output{flag: "out", path: *out, what: "the predictions"}
		ins := []output{{flag: "csv", path: *mf.csv, what: "the table"}, {flag: "model", path: *mf.model, what: "the model"}}
		if err := checkOutputs(ins, o); err != nil {
			return err
		}
		return predictTable(e, fs, mf, o)
	}
	if *n < 1 {
		return usagef("--n %d must be at least 1", *n)
	}
	m, done, ds, err := mf.load(e)
	if err != nil {
		return err
	}
	defer done()
	test := headRows(ds.split.Test, *n)
	pred, err := m.Predict(test, 1024)
	if err != nil {
		return err
	}
	type row struct {
		Index       int       `json:"index"`
		Label       int       `json:"label"`
		Predicted   int       `json:"predicted"`
		Probability float64   `json:"probability"`
		Outputs     []float64 `json:"outputs"`
	}
	rows := make([]row, test.Rows)
	for i := range rows {
		p := pred.Outputs[i]
		r := row{Index: i, Label: int(test.Labels[i]), Outputs: p, Predicted: pred.Classes[i]}
		r.Probability = pred.Probs(i)[r.Predicted]
		rows[i] = r
	}
	if *asJSON {
		out := map[string]any{"model": m.Spec().String(), "data": ds.name, "predictions": rows}
		if m.Len() > 1 {
			out["ensemble"] = m.Len()
		}
		return writeJSON(e.stdout, out)
	}
	for _, r := range rows {
		mark := ""
		if r.Predicted != r.Label {
			mark = "  (wrong)"
		}
		fmt.Fprintf(e.stdout, "row %4d: predicted %d (p=%.3f), label %d%s\n", r.Index, r.Predicted, r.Probability, r.Label, mark)
	}
	return nil
}
