package main

import (
	"fmt"
	"math"

	"github.com/gputrain/gputrain/internal/plotio"
	"github.com/gputrain/gputrain/nn"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// plotHistory writes a PNG with the training loss and accuracy per epoch.
func plotHistory(path string, hist []nn.EpochStats, title string) error {
	loss, acc := make(plotter.XYs, len(hist)), make(plotter.XYs, 0, len(hist))
	for i, s := range hist {
		loss[i] = plotter.XY{X: float64(s.Epoch), Y: s.Loss}
		if !math.IsNaN(s.Accuracy) {
			acc = append(acc, plotter.XY{X: float64(s.Epoch), Y: 100 * s.Accuracy})
		}
	}
	pl := plot.New()
	pl.Title.Text = "loss — " + title
	pl.X.Label.Text = "epoch"
	pl.Y.Label.Text = "training loss"
	if err := addLine(pl, loss, "loss", 0); err != nil {
		return err
	}
	plots := []*plot.Plot{pl}
	if len(acc) > 0 {
		pa := plot.New()
		pa.Title.Text = "accuracy"
		pa.X.Label.Text = "epoch"
		pa.Y.Label.Text = "training accuracy (%)"
		if err := addLine(pa, acc, "accuracy", 1); err != nil {
			return err
		}
		plots = append(plots, pa)
	}
	return savePlots(path, plots)
}

// addLine adds a line with points; the plot title names it.
func addLine(p *plot.Plot, xys plotter.XYs, name string, color int) error {
	l, pts, err := plotter.NewLinePoints(xys)
	if err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	l.Color = plotio.Color(color)
	pts.Color = plotio.Color(color)
	p.Add(l, pts, plotter.NewGrid())
	return nil
}

// savePlots lays plots out side by side in one PNG.
func savePlots(path string, plots []*plot.Plot) error {
	w, h := vg.Length(len(plots))*12*vg.Centimeter, 9*vg.Centimeter
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Centimeter / 2,
		PadTop: vg.Centimeter / 3, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Centimeter / 3}
	canvases := plot.Align([][]*plot.Plot{plots}, tiles, dc)
	for i, p := range plots {
		p.Draw(canvases[0][i])
	}
	return plotio.WritePNG(path, img)
}
