package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/table"
)

// checkEnsemble checks --ensemble against the other flags: at least 1,
// and more than 1 trains a new array (not --resume, whose checkpoint is
// one model) without --plot (one model's history).
func (p *trainPlan) checkEnsemble() error {
	n := p.f.ensemble
	switch {
	case n < 1:
		return usagef("--ensemble %d must be at least 1", n)
	case n > nn.MaxEnsemble:
		return usagef("--ensemble %d: at most %d models", n, nn.MaxEnsemble)
	case n == 1:
		return nil
	case p.f.resume != "":
		return usagef("--ensemble %d and --resume: an ensemble is trained from new seeds, not resumed; leave one out", n)
	case p.f.plot != "":
		return usagef("--ensemble %d and --plot: the plot is of one model's training; leave one out", n)
	}
	return nil
}

// spec is the new model's architecture for the training set.
func (p *trainPlan) spec(split *data.Split, table *table.Encoder) (nn.Spec, error) {
	spec := nn.Spec{Inputs: split.Train.Cols, Hidden: p.hidden, Activation: p.act}
	spec.Head, spec.Outputs = nn.HeadFor(split.Train)
	if spec.Head == nn.RegressionHead && table == nil {
		return spec, fmt.Errorf("%s: train needs a classification data set (found %d classes)", split.Train.Name, split.Train.Classes)
	}
	return spec, nil
}

// trainEnsemble is train --ensemble N (N > 1): N models of seeds seed,
// seed+1, … trained as one model array (nn.TrainArray), member k exactly
// as train --seed seed+k would train it but for the shared --val split
// (drawn with --seed) and, with --csv, a scaling fitted to every training
// row; their averaged predictions scored on the test split beside the
// members' mean, and all saved in one checkpoint (--save).
func trainEnsemble(e *env, p *trainPlan, b backend.Backend, split *data.Split, tbl *table.Encoder, cfg nn.Config) error {
	n := p.f.ensemble
	spec, err := p.spec(split, tbl)
	if err != nil {
		return err
	}
	if pc, ok := spec.ParamCount(); !ok || pc > math.MaxInt/(4*n) {
		return fmt.Errorf("--ensemble %d of %v: too many parameters", n, spec)
	}
	seeds := make([]uint64, n)
	members := make([]nn.MemberConfig, n)
	for k := range seeds {
		seeds[k] = p.f.seed + uint64(k)
		members[k].ShuffleSeed = seeds[k]
	}
	arr, err := nn.NewArray(b, spec, seeds)
	if err != nil {
		return err
	}
	defer arr.Free()
	if cfg.Standardize && tbl != nil {
		// One-hot inputs stay unscaled, as Train keeps them for a table.
		if arr.Scaling, err = nn.FitTableScaling(split.Train, spec, tbl); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "model:  ensemble of %d × %v (seeds %d to %d, one model array), %s lr %g%s%s, batch %s, %d epochs\n",
		n, spec, seeds[0], seeds[n-1], p.opt, p.f.lr, scheduleNote(cfg.Schedule), decayNote(p.opt, cfg.WeightDecay)+clipNote(cfg.ClipNorm)+dropoutNote(cfg.Dropout),
		batchName(p.f.batch), p.f.epochs)
	res := trainResult{Data: split.Train.Name, Synthetic: split.Synthetic, Model: spec.String(), Checkpoint: p.f.save,
		Optimizer: cfg.Optimizer.String(), WeightDecay: cfg.WeightDecay, ClipNorm: cfg.ClipNorm, Dropout: cfg.Dropout}
	fillDevice(&res, b.Info())
	bar := newBar(e, p.f.json, p.f.epochs)
	start := time.Now()
	results, err := nn.TrainArray(e.ctx, arr, split.Train, cfg, members, nn.ArrayHooks{Step: bar.progress})
	bar.finish()
	res.Seconds = time.Since(start).Seconds()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(e.stderr, "interrupted: the ensemble was not saved")
			return &exitError{code: 130}
		}
		return err
	}
	var failed []error
	for k, r := range results {
		if r.Err != nil {
			failed = append(failed, fmt.Errorf("member %d (seed %d): %w", k, seeds[k], flagDivergence(r.Err)))
		}
		if h := r.History.Epochs; len(h) > 0 {
			last := h[len(h)-1]
			note := ""
			if r.Stopped {
				note = fmt.Sprintf(", stopped early: the weights of epoch %d kept", r.History.BestEpoch)
			}
			fmt.Fprintf(e.stderr, "member %d (seed %d): train loss %.6g%s in epoch %d%s\n", k, seeds[k], last.Loss, pct(", accuracy ", last.Accuracy), last.Epoch, note)
		}
		res.Epochs = max(res.Epochs, len(r.History.Epochs))
	}
	if len(failed) > 0 {
		return fmt.Errorf("the ensemble was not saved: %w", errors.Join(failed...))
	}
	ens, err := nn.NewEnsemble(arr)
	if err != nil {
		return err
	}
	defer ens.Free()
	for _, m := range ens.Members {
		m.Info.Subset = p.digits
		m.Table = tbl
	}
	savedTo := ""
	var rescued error
	if p.f.save != "" {
		if savedTo, rescued = writeOutput(p.saveOut, ens.Save); savedTo == "" {
			return rescued
		}
		res.Checkpoint = savedTo
	}
	sc, err := ens.Score(split.Test, evalBatch(p.f.batch))
	if err != nil {
		return fmt.Errorf("evaluate on %s: %w", split.Test.Name, err)
	}
	res.TestLoss, res.TestAccuracy = sc.Loss, sc.Accuracy
	if sc.Regression != nil {
		res.setRegression(*sc.Regression)
	}
	mean, err := res.setMembers(ens, split.Test)
	if err != nil {
		return err
	}
	if p.f.json {
		if err := writeJSON(e.stdout, res); err != nil {
			return err
		}
		return rescued
	}
	fmt.Fprintf(e.stdout, "test, ensemble of %d: %s (%.1fs)\n", n, testSummary(sc, split.Test.Name), res.Seconds)
	printMembers(e.stdout, ens, mean)
	if savedTo != "" {
		fmt.Fprintf(e.stdout, "ensemble of %d models saved to %s\n", n, savedTo)
	}
	return rescued
}
