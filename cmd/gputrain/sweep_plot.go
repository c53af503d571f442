package main

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/gputrain/gputrain/internal/plotio"
	"github.com/gputrain/gputrain/sweep"
)

// plotSweep writes a PNG of a sweep's results to path: on the left the
// validation loss of every model over its epochs, the best
// configuration's models highlighted (their best epochs ringed); on the
// right the ranking metric (mean ± std) against the hyperparameter with
// the most values, learning rate first, one series per combination of the
// others.
func plotSweep(path string, r *sweep.Results) error {
	best, ok := r.Best()
	if !ok {
		return fmt.Errorf("plot %s: no results to plot", path)
	}
	pl := newPanel("validation loss of every model", "epoch", "validation loss")
	var others, bests []plotter.XYs
	var rings plotter.XYs
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range r.Trials {
		for _, f := range t.Folds {
			var xys plotter.XYs
			for _, ep := range f.History {
				if v := float64(ep.ValLoss); !math.IsNaN(v) && !math.IsInf(v, 0) {
					xys = append(xys, plotter.XY{X: float64(ep.Epoch), Y: v})
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
				if t.Config == best.Config && ep.Epoch == f.BestEpoch && !f.Diverged() {
					rings = append(rings, plotter.XY{X: float64(ep.Epoch), Y: float64(ep.ValLoss)})
				}
			}
			if len(xys) == 0 {
				continue
			}
			if t.Config == best.Config {
				bests = append(bests, xys)
			} else {
				others = append(others, xys)
			}
		}
	}
	if len(others)+len(bests) == 0 {
		return fmt.Errorf("plot %s: no validation loss to plot", path)
	}
	if lo > 0 && hi/lo > 100 {
		pl.Y.Scale, pl.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	}
	var legend []legendEntry
	grey := color.Gray{Y: 175}
	var thumb plot.Thumbnailer
	for _, xys := range others {
		l, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		l.Color, l.Width = grey, vg.Points(0.7)
		pl.Add(l)
		thumb = l
	}
	if thumb != nil {
		legend = append(legend, legendEntry{fmt.Sprintf("other configurations (%d models)", len(others)), []plot.Thumbnailer{thumb}})
	}
	thumb = nil
	for _, xys := range bests {
		l, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		l.Color, l.Width = plotio.Color(3), vg.Points(1.6)
		pl.Add(l)
		thumb = l
	}
	if len(rings) > 0 {
		sc, err := plotter.NewScatter(rings)
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		sc.Shape, sc.Radius, sc.Color = draw.RingGlyph{}, vg.Points(4), color.Gray{Y: 40}
		pl.Add(sc)
	}
	if thumb != nil {
		legend = append(legend, legendEntry{fmt.Sprintf("best: %s (%d models, best epochs ringed)", shortConfig(best.Params), len(bests)), []plot.Thumbnailer{thumb}})
	}
	pm, err := metricPanel(r, best)
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	title := fmt.Sprintf("sweep of %d configurations × %d seeds on %s", len(r.Configs), len(r.Plan.Grid.Seeds), r.Data.Name)
	if r.Plan.Folds > 0 {
		title += fmt.Sprintf(", %d-fold cross-validation", r.Plan.Folds)
	}
	return savePlots(path, title, legend, []*plot.Plot{pl, pm})
}

// shortConfig describes c in a few words for a legend.
func shortConfig(c sweep.Config) string {
	return fmt.Sprintf("%s %v %v b%s lr %s", sweep.HiddenString(c.Hidden), c.Activation, c.Optimizer, batchName(c.Batch), strconv.FormatFloat(c.LR, 'g', -1, 64))
}

// hyper is a hyperparameter of the grid, for the metric panel.
type hyper struct {
	name   string
	label  string                      // before a value in a legend, e.g. "hidden"
	n      int                         // values in the grid
	value  func(c sweep.Config) string // a configuration's value, as a label
	number func(c sweep.Config) float64
}

func hypers(g sweep.Grid) []hyper {
	return []hyper{
		{"learning rate", "lr", len(g.LR), func(c sweep.Config) string { return strconv.FormatFloat(c.LR, 'g', -1, 64) }, func(c sweep.Config) float64 { return c.LR }},
		{"hidden layers", "hidden", len(g.Hidden), func(c sweep.Config) string { return sweep.HiddenString(c.Hidden) }, nil},
		{"batch", "batch", len(g.Batch), func(c sweep.Config) string { return batchName(c.Batch) }, nil},
		{"activation", "", len(g.Activation), func(c sweep.Config) string { return c.Activation.String() }, nil},
		{"optimizer", "", len(g.Optimizer), func(c sweep.Config) string { return c.Optimizer.String() }, nil},
	}
}

// errPoints are points with vertical error bars.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// metricPanel plots the ranking metric against the first hyperparameter
// with more than one value (the learning rate on a log axis, others as
// categories), one series per combination of the other hyperparameters.
func metricPanel(r *sweep.Results, best sweep.ConfigResult) (*plot.Plot, error) {
	hs := hypers(r.Plan.Grid)
	x := hs[0]
	for _, h := range hs {
		if h.n > 1 {
			x = h
			break
		}
	}
	metric, scale := "validation loss", 1.0
	if r.Plan.Metric == sweep.Accuracy {
		metric, scale = "validation accuracy (%)", 100
	}
	p := newPanel(metric+" against "+x.name, x.name, metric+", mean ± std")
	// Category positions for a categorical axis, in grid order.
	pos := map[string]float64{}
	var ticks []plot.Tick
	for _, c := range r.Plan.Grid.Configs() {
		v := x.value(c)
		if _, ok := pos[v]; !ok {
			pos[v] = float64(len(pos))
			ticks = append(ticks, plot.Tick{Value: pos[v], Label: v})
		}
	}
	if x.number != nil {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	} else {
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Min, p.X.Max = -0.5, float64(len(ticks))-0.5
	}
	type series struct {
		name string
		pts  errPoints
	}
	var order []string
	bySeries := map[string]*series{}
	var bestPt plotter.XYs
	for _, c := range r.Plan.Grid.Configs() {
		var cr *sweep.ConfigResult
		for i := range r.Configs {
			if sameConfig(r.Configs[i].Params, c) {
				cr = &r.Configs[i]
			}
		}
		if cr == nil {
			continue
		}
		mean, std := scale*float64(cr.ValLoss), scale*float64(cr.ValLossStd)
		if r.Plan.Metric == sweep.Accuracy {
			mean, std = scale*float64(cr.ValAccuracy), scale*float64(cr.ValAccuracyStd)
		}
		if math.IsNaN(mean) {
			continue
		}
		if math.IsNaN(std) {
			std = 0
		}
		var rest []string
		for _, h := range hs {
			if h.name != x.name && h.n > 1 {
				rest = append(rest, strings.TrimSpace(h.label+" "+h.value(c)))
			}
		}
		key := strings.Join(rest, " ")
		s := bySeries[key]
		if s == nil {
			s = &series{name: key}
			bySeries[key] = s
			order = append(order, key)
		}
		xv := pos[x.value(c)]
		if x.number != nil {
			xv = x.number(c)
		}
		s.pts.XYs = append(s.pts.XYs, plotter.XY{X: xv, Y: mean})
		s.pts.YErrors = append(s.pts.YErrors, struct{ Low, High float64 }{std, std})
		if cr.Config == best.Config {
			bestPt = plotter.XYs{{X: xv, Y: mean}}
		}
	}
	for i, key := range order {
		s := bySeries[key]
		col := plotio.Color(i)
		if len(s.pts.XYs) > 1 {
			l, err := plotter.NewLine(s.pts.XYs)
			if err != nil {
				return nil, err
			}
			l.Color, l.Width = col, vg.Points(1.2)
			p.Add(l)
		}
		sc, err := plotter.NewScatter(s.pts.XYs)
		if err != nil {
			return nil, err
		}
		sc.Color, sc.Radius = col, vg.Points(2.5)
		eb, err := plotter.NewYErrorBars(s.pts)
		if err != nil {
			return nil, err
		}
		eb.Color = col
		p.Add(sc, eb)
		if key != "" && len(order) <= 8 {
			p.Legend.Add(key, sc)
		}
	}
	if bestPt != nil {
		ring, err := plotter.NewScatter(bestPt)
		if err != nil {
			return nil, err
		}
		ring.Shape, ring.Radius, ring.Color = draw.RingGlyph{}, vg.Points(6), plotio.Color(3)
		p.Add(ring)
		p.Legend.Add("best", ring)
	}
	p.Legend.Top = true
	if x.number != nil {
		// Room around the extreme values on the log axis.
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, lr := range r.Plan.Grid.LR {
			lo, hi = math.Min(lo, lr), math.Max(hi, lr)
		}
		p.X.Min, p.X.Max = lo/1.6, hi*1.6
	}
	return p, nil
}

func sameConfig(a, b sweep.Config) bool {
	return sweep.HiddenString(a.Hidden) == sweep.HiddenString(b.Hidden) && a.Activation == b.Activation &&
		a.Optimizer == b.Optimizer && a.Batch == b.Batch && a.LR == b.LR
}
