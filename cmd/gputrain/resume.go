package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/table"
)

// resumed is what train's --resume checkpoint says about the model, read
// before any work so that the command line can be checked against it.
type resumed struct {
	path  string
	spec  nn.Spec
	info  nn.TrainInfo
	table *table.Encoder
	// took lists the model-defining flags whose values came from the
	// checkpoint (not given on the command line), as "--hidden 128,64".
	took []string
}

// reconcileResume reads the checkpoint at path and reconciles train's
// model-defining flags with it. A flag given explicitly (on the command
// line, not by a preset or the table defaults) that contradicts the
// checkpoint is an error naming both values: --hidden, --activation,
// --digits (the classes it was trained on, when recorded), and for a table
// --target, --task, --features, --drop and --na. Flags not given take the
// checkpoint's values: *digits and tf.target are set from it.
func reconcileResume(path string, explicit map[string]bool, hidden []int, act backend.Activation, digits *[]int, tf *tableFlags) (*resumed, error) {
	spec, info, enc, err := nn.LoadInfo(path)
	if err != nil {
		return nil, err
	}
	r := &resumed{path: path, spec: spec, info: info, table: enc}
	conflict := func(flag, given, has string) error {
		return fmt.Errorf("%s: --%s %s contradicts the checkpoint, whose model has %s; leave --%s out to continue it (its values are used), or train a new model without --resume",
			path, flag, given, has, flag)
	}
	if explicit["hidden"] && !slices.Equal(hidden, spec.Hidden) {
		return nil, conflict("hidden", intList(hidden), "hidden layers "+hiddenName(spec.Hidden))
	}
	r.took = append(r.took, "--hidden "+hiddenName(spec.Hidden))
	if explicit["activation"] && act != spec.Activation {
		return nil, conflict("activation", act.String(), "activation "+spec.Activation.String())
	}
	r.took = append(r.took, "--activation "+spec.Activation.String())

	if enc == nil {
		if tf.csv != "" {
			return nil, fmt.Errorf("%s: this model was not trained on a table (its checkpoint has no table encoding): resume it with --data as in its training", path)
		}
		switch {
		case explicit["digits"] && info.Subset != nil && !slices.Equal(*digits, info.Subset):
			return nil, conflict("digits", intList(*digits), "classes "+intList(info.Subset)+" of its data")
		case !explicit["digits"] && info.Subset != nil:
			*digits = slices.Clone(info.Subset)
			r.took = append(r.took, "--digits "+intList(info.Subset))
		}
		return r, nil
	}

	if tf.csv == "" {
		return nil, fmt.Errorf("%s: this model was trained on a table (target %q): resume it with --csv FILE", path, enc.Target)
	}
	switch {
	case tf.target == "":
		tf.target = enc.Target
		r.took = append(r.took, "--target "+enc.Target)
	case tf.target != enc.Target:
		return nil, conflict("target", tf.target, fmt.Sprintf("the target %q", enc.Target))
	}
	if explicit["task"] {
		if task, err := table.ParseTask(tf.task); err == nil && task != table.TaskAuto && task != enc.Task {
			return nil, conflict("task", tf.task, "the task "+enc.Task.String())
		}
	}
	if explicit["na"] {
		if na, err := table.ParseNAPolicy(tf.na); err == nil && na != enc.NA {
			return nil, conflict("na", tf.na, "the NA policy "+enc.NA.String()+" (its fill values come from it)")
		}
	}
	var cols []string
	for _, c := range enc.Columns {
		cols = append(cols, c.Name)
	}
	if explicit["features"] {
		given := columnList(tf.features)
		a, b := slices.Clone(given), slices.Clone(cols)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			return nil, conflict("features", tf.features, "the features "+strings.Join(cols, ","))
		}
	}
	if explicit["drop"] {
		for _, d := range columnList(tf.drop) {
			if slices.Contains(cols, d) {
				return nil, conflict("drop", tf.drop, fmt.Sprintf("%q as a feature", d))
			}
		}
	}
	r.took = append(r.took, fmt.Sprintf("the table encoding (%d feature columns, %s, --na %s)", len(cols), enc.Task, enc.NA))
	return r, nil
}

// check checks the loaded data against the checkpoint's model: as many
// inputs as it takes and, for a classifier, as many classes as it predicts.
func (r *resumed) check(s *data.Set) error {
	if r.spec.Inputs != s.Cols {
		return fmt.Errorf("%s: the model takes %d inputs but %s has %d features per row", r.path, r.spec.Inputs, s.Name, s.Cols)
	}
	if r.table == nil {
		if want := r.spec.Classes(); want != s.Classes {
			return fmt.Errorf("%s: the model predicts %d classes (a %s head) but %s has %d (use --digits as when it was trained)",
				r.path, want, r.spec.Head, s.Name, s.Classes)
		}
	}
	return nil
}

// note is the banner's account of where the model came from.
func (r *resumed) note() string {
	return fmt.Sprintf("resumed from %s after epoch %d; from the checkpoint: %s", r.path, r.info.Epoch, strings.Join(r.took, ", "))
}

// stateNotes are the banner's account of the optimizer's state and the
// schedule's position a run with cfg takes from the checkpoint.
func (r *resumed) stateNotes(cfg nn.Config) []string {
	var notes []string
	switch st := r.info.OptimizerState; {
	case st == cfg.Optimizer.String():
		if cfg.Optimizer != nn.SGD {
			notes = append(notes, fmt.Sprintf("the optimizer's state continues: %s's %s at step %d",
				st, strings.Join(nn.OptimizerStateNames(cfg.Optimizer), " and "), r.info.Step))
		}
	case cfg.Optimizer == nn.SGD:
	case st == "":
		notes = append(notes, fmt.Sprintf("the checkpoint keeps no optimizer state: %s's starts from zero", cfg.Optimizer))
	default:
		notes = append(notes, fmt.Sprintf("the checkpoint keeps %s's state, not %s's: %s's starts from zero", st, cfg.Optimizer, cfg.Optimizer))
	}
	if cfg.Schedule.Kind == nn.ConstantLR && cfg.Schedule.Warmup == 0 {
		return notes
	}
	si := r.info.Schedule
	switch {
	case si.Continues(cfg.Schedule, cfg.LR):
		notes = append(notes, fmt.Sprintf("the %v schedule continues at its epoch %d of %d", cfg.Schedule.Kind, si.Done+1, max(si.Epochs, si.Done+cfg.Epochs)))
	case si == nil:
		notes = append(notes, fmt.Sprintf("the checkpoint keeps no schedule position: the %v schedule starts over these %d epochs", cfg.Schedule.Kind, cfg.Epochs))
	case si.Done >= si.Epochs:
		notes = append(notes, fmt.Sprintf("the checkpoint's %s schedule had ended: a new %v schedule over these %d epochs", si.Kind, cfg.Schedule.Kind, cfg.Epochs))
	default:
		notes = append(notes, fmt.Sprintf("the checkpoint's schedule (%s from lr %g, epoch %d of %d) is not this run's: a new %v schedule over these %d epochs",
			si.Kind, si.LR, si.Done, si.Epochs, cfg.Schedule.Kind, cfg.Epochs))
	}
	return notes
}

func hiddenName(h []int) string {
	if len(h) == 0 {
		return "none"
	}
	return intList(h)
}

func intList(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
