package main

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/linear"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/table"
)

func init() {
	register(&command{name: "regress", summary: "linear regression by gradient descent on CSV columns", run: runRegress})
}

type regressResult struct {
	Device       string    `json:"device"`
	Backend      string    `json:"backend"`
	Adapter      string    `json:"adapter"`
	X            []string  `json:"x"`
	Y            string    `json:"y"`
	Rows         int       `json:"rows"`
	Dropped      int       `json:"dropped"`
	Coefficients []float64 `json:"coefficients"`
	Intercept    float64   `json:"intercept"`
	// ClosedForm is null, and ClosedFormNote says why, when the design is
	// not well conditioned; ConditionNumber is null when infinite.
	ClosedForm      []float64 `json:"closed_form"`
	ClosedFormNote  string    `json:"closed_form_note,omitempty"`
	ConditionNumber *float64  `json:"condition_number"`
	MSE             float64   `json:"mse"`
}

func runRegress(e *env, args []string) error {
	fs := newFlags(e, "regress", "--csv FILE --x COLUMN[,COLUMN...] --y COLUMN [flags]")
	csvFile := fs.String("csv", "", "CSV `FILE` with a header row")
	xFlag := fs.String("x", "", "feature column(s), comma-separated")
	yFlag := fs.String("y", "", "target column")
	na := fs.String("na", "error", "cells that are NA or not numbers: error (stop and name the cell) or drop (skip the row)")
	lr := fs.Float64("lr", 0.1, "learning rate (features and target are standardised)")
	iters := fs.Int("iters", 1000, "gradient-descent iterations")
	restarts := fs.Int("restarts", 1, "random starts; the best is kept")
	seed := fs.Uint64("seed", 1, "seed for the random starts")
	device := fs.String("device", "auto", deviceHelp)
	asJSON := fs.Bool("json", false, "print one JSON object on stdout at the end")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *csvFile == "" || *xFlag == "" || *yFlag == "" {
		return usagef("--csv, --x and --y are required")
	}
	if err := checkLR(*lr); err != nil {
		return err
	}
	if *iters < 1 || *restarts < 1 {
		return usagef("--iters and --restarts must be at least 1")
	}
	policy, err := table.ParseNAPolicy(*na)
	if err != nil {
		return usagef("--na: %v", err)
	}
	if err := checkDevice(*device); err != nil {
		return err
	}
	xs := strings.Split(*xFlag, ",")
	for i := range xs {
		xs[i] = strings.TrimSpace(xs[i])
	}
	set, rep, err := table.LoadCSV(*csvFile, xs, *yFlag, policy)
	if err != nil {
		return err
	}
	if err := linear.CheckRegression(set); err != nil {
		return err
	}
	b, why, err := openDevice(*device, false)
	if err != nil {
		return err
	}
	defer b.Close()
	announce(e, b, why, false)
	r, err := linear.Regress(e.ctx, b, set, linear.RegressConfig{Epochs: *iters, LR: *lr, Optimizer: nn.SGD, Seed: *seed, Restarts: *restarts}, nn.Hooks{})
	if err != nil {
		return flagDivergence(err)
	}
	defer r.Model.Free()
	res := newRegressResult(b.Info(), xs, *yFlag, rep, r)
	if *asJSON {
		return writeJSON(e.stdout, res)
	}
	printRegression(e.stdout, res, r)
	return nil
}

// newRegressResult is regress's result: the fit r of column y on columns
// xs (rep says how many rows were read and dropped) on the device info
// describes.
func newRegressResult(info backend.Info, xs []string, y string, rep table.CSVReport, r *linear.Regression) regressResult {
	res := regressResult{Device: info.Kind, Backend: info.API, Adapter: info.Adapter, X: xs, Y: y,
		Rows: rep.Rows, Dropped: rep.Dropped, Coefficients: r.Coef, Intercept: r.Intercept, MSE: r.MSE}
	if !math.IsInf(r.ExactCond, 0) {
		res.ConditionNumber = &r.ExactCond
	}
	// The closed form only when it means something: a well-conditioned
	// design (linear.MaxCondition).
	if r.ExactErr == nil {
		res.ClosedForm = append(append([]float64(nil), r.ExactCoef...), r.ExactIntercept)
	} else {
		res.ClosedFormNote = fmt.Sprintf("not reported: the standardised design's condition number is %.3g, above %.0e: the features are nearly collinear, so their coefficients are not determined one by one (the fit is); leave out one of the collinear columns",
			r.ExactCond, linear.MaxCondition)
	}
	return res
}

// printRegression writes regress's text output to w: the fit r as an
// equation, the closed form (or why it is not reported) and the errors.
func printRegression(w io.Writer, res regressResult, r *linear.Regression) {
	if res.Dropped > 0 {
		fmt.Fprintf(w, "dropped %d rows with NA or non-numeric cells\n", res.Dropped)
	}
	fmt.Fprintf(w, "%d rows; %s ≈ ", res.Rows, sanitize(res.Y))
	for i, c := range r.Coef {
		fmt.Fprintf(w, "%.6g·%s + ", c, sanitize(res.X[i]))
	}
	fmt.Fprintf(w, "%.6g\n", r.Intercept)
	if res.ClosedForm == nil {
		fmt.Fprintf(w, "closed-form least squares: %s\n", res.ClosedFormNote)
		fmt.Fprintf(w, "mean squared error: %.6g (root: %.6g)\n", r.MSE, sqrt(r.MSE))
		return
	}
	fmt.Fprintf(w, "closed-form least squares: coefficients %s, intercept %.6g (condition number %.3g)\n", vec(r.ExactCoef), r.ExactIntercept, r.ExactCond)
	fmt.Fprintf(w, "mean squared error: %.6g (root: %.6g); closed form: %.6g\n", r.MSE, sqrt(r.MSE), r.ExactMSE)
}
