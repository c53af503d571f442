package main

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/gputrain/gputrain/internal/plotio"
	"github.com/gputrain/gputrain/nn"
)

// markerEpochs is the most epochs whose points are drawn as well as lines.
const markerEpochs = 60

// plotHistory writes a PNG of a training run, titled title (model, data,
// device): the loss per epoch, training and validation on the same axes,
// and beside it the accuracy likewise for a classifier. With validation
// the best epoch (lowest validation loss) is marked by a dashed vertical
// line. The loss axis is logarithmic when the loss spans more than two
// decades (e.g. the tutorial's 10001 full-batch epochs).
func plotHistory(path string, hist nn.History, title string) error {
	var loss, vloss, acc, vacc, lrs plotter.XYs
	varies := false
	for _, s := range hist.Epochs {
		if s.Partial {
			continue
		}
		x := float64(s.Epoch)
		loss = append(loss, plotter.XY{X: x, Y: s.Loss})
		if s.LR > 0 {
			varies = varies || len(lrs) > 0 && s.LR != lrs[0].Y
			lrs = append(lrs, plotter.XY{X: x, Y: s.LR})
		}
		if !math.IsNaN(s.ValLoss) {
			vloss = append(vloss, plotter.XY{X: x, Y: s.ValLoss})
		}
		if !math.IsNaN(s.Accuracy) {
			acc = append(acc, plotter.XY{X: x, Y: 100 * s.Accuracy})
		}
		if !math.IsNaN(s.ValAccuracy) {
			vacc = append(vacc, plotter.XY{X: x, Y: 100 * s.ValAccuracy})
		}
	}
	if len(loss) == 0 {
		return fmt.Errorf("plot %s: no complete epoch to plot", path)
	}
	markers := len(loss) <= markerEpochs
	best := hist.BestEpoch
	if len(vloss) == 0 {
		best = 0
	}
	var legend []legendEntry

	pl := newPanel("loss", "epoch", "loss")
	if lo, hi := yRange(loss, vloss); lo > 0 && hi/lo > 100 {
		pl.Y.Scale, pl.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	}
	for i, series := range []struct {
		xys  plotter.XYs
		name string
	}{{loss, "training (mean over the epoch)"}, {vloss, "validation (after the epoch)"}} {
		things, err := addSeries(pl, series.xys, series.name, i, markers)
		if err != nil {
			return err
		}
		if things != nil {
			legend = append(legend, legendEntry{series.name, things})
		}
	}
	bestLine, err := markBest(pl, best, vloss, loss, vloss)
	if err != nil {
		return err
	}
	if bestLine != nil {
		legend = append(legend, legendEntry{fmt.Sprintf("best epoch %d (lowest validation loss)", best), []plot.Thumbnailer{bestLine}})
	}
	plots := []*plot.Plot{pl}
	if len(acc) > 0 {
		pa := newPanel("accuracy", "epoch", "accuracy (%)")
		for i, xys := range []plotter.XYs{acc, vacc} {
			if _, err := addSeries(pa, xys, "accuracy", i, markers); err != nil {
				return err
			}
		}
		if _, err := markBest(pa, best, vacc, acc, vacc); err != nil {
			return err
		}
		plots = append(plots, pa)
	}
	if varies { // a schedule: the learning rate of each epoch
		pr := newPanel("learning rate", "epoch", "learning rate")
		if lo, hi := yRange(lrs); lo > 0 && hi/lo > 100 {
			pr.Y.Scale, pr.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		}
		if _, err := addSeries(pr, lrs, "learning rate", 2, markers); err != nil {
			return err
		}
		plots = append(plots, pr)
	}
	return savePlots(path, title, legend, plots)
}

// legendEntry is one entry of the legend the panels share.
type legendEntry struct {
	name   string
	things []plot.Thumbnailer
}

func newPanel(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.X.Tick.Marker = epochTicks{}
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	return p
}

// yRange is the smallest and largest Y of the series.
func yRange(series ...plotter.XYs) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, p := range s {
			lo, hi = math.Min(lo, p.Y), math.Max(hi, p.Y)
		}
	}
	return lo, hi
}

// addSeries adds a line (with points when markers) in palette colour c and
// returns what the legend shows for it; an empty series adds nothing.
func addSeries(p *plot.Plot, xys plotter.XYs, name string, c int, markers bool) ([]plot.Thumbnailer, error) {
	if len(xys) == 0 {
		return nil, nil
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, fmt.Errorf("plot %s: %w", name, err)
	}
	l.Color = plotio.Color(c)
	l.Width = vg.Points(1.5)
	p.Add(l)
	if !markers {
		return []plot.Thumbnailer{l}, nil
	}
	pts, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, fmt.Errorf("plot %s: %w", name, err)
	}
	pts.Color = plotio.Color(c)
	pts.Radius = vg.Points(1.8)
	p.Add(pts)
	return []plot.Thumbnailer{l, pts}, nil
}

// markBest draws a dashed vertical line at epoch best over the Y range of
// series, and rings the point of at at that epoch; best 0 draws nothing.
// It returns the line, for the legend.
func markBest(p *plot.Plot, best int, at plotter.XYs, series ...plotter.XYs) (*plotter.Line, error) {
	if best == 0 {
		return nil, nil
	}
	lo, hi := yRange(series...)
	x := float64(best)
	l, err := plotter.NewLine(plotter.XYs{{X: x, Y: lo}, {X: x, Y: hi}})
	if err != nil {
		return nil, fmt.Errorf("plot best epoch: %w", err)
	}
	l.Color = color.Gray{Y: 80}
	l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(l)
	for _, pt := range at {
		if pt.X == x {
			ring, err := plotter.NewScatter(plotter.XYs{pt})
			if err != nil {
				return nil, fmt.Errorf("plot best epoch: %w", err)
			}
			ring.Shape = draw.RingGlyph{}
			ring.Radius = vg.Points(5)
			ring.Color = color.Gray{Y: 40}
			p.Add(ring)
		}
	}
	return l, nil
}

// epochTicks labels an epoch axis with whole numbers: steps of 1, 2 or 5
// times a power of ten, about five labels.
type epochTicks struct{}

// Ticks implements plot.Ticker.
func (epochTicks) Ticks(lo, hi float64) []plot.Tick {
	step := 1.0
	for _, m := range []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000} {
		step = m
		if (hi-lo)/m <= 6 {
			break
		}
	}
	var ts []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return ts
}

// savePlots lays plots out side by side in one PNG under the title and
// the legend they share, which is drawn in one row.
func savePlots(path, title string, legend []legendEntry, plots []*plot.Plot) error {
	titleH, legendH := vg.Centimeter, 7*vg.Millimeter
	w, h := vg.Length(len(plots))*13*vg.Centimeter, 10*vg.Centimeter+titleH+legendH
	img := vgimg.New(w, h)
	dc := draw.New(img)
	sty := plot.New().Title.TextStyle
	sty.Font.Size = vg.Points(13)
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
	dc.FillText(sty, vg.Point{X: w / 2, Y: h - titleH/2}, title)
	if len(legend) > 0 {
		slot := w / vg.Length(len(legend))
		for i, e := range legend {
			lg := plot.NewLegend()
			lg.Left, lg.Top = true, true
			lg.XOffs = vg.Centimeter
			lg.Add(e.name, e.things...)
			lg.Draw(draw.Crop(dc, vg.Length(i)*slot, -(w - vg.Length(i+1)*slot), h-titleH-legendH, -titleH))
		}
	}
	body := draw.Crop(dc, 0, 0, 0, -(titleH + legendH))
	tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Centimeter / 2,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Centimeter / 3}
	canvases := plot.Align([][]*plot.Plot{plots}, tiles, body)
	for i, p := range plots {
		p.Draw(canvases[0][i])
	}
	return plotio.WritePNG(path, img)
}
