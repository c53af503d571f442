package benchrun

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"text/tabwriter"

	"github.com/gputrain/gputrain/internal/plotio"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Dur formats seconds with a unit that keeps three significant digits.
func Dur(s float64) string {
	switch {
	case s <= 0 || math.IsNaN(s):
		return "-"
	case s < 1e-3:
		return fmt.Sprintf("%.1fµs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.2fms", s*1e3)
	}
	return fmt.Sprintf("%.2fs", s)
}

// Bytes formats a byte count in KiB, MiB or GiB.
func Bytes(n uint64) string {
	switch {
	case n == 0:
		return "-"
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

func sorted(xs []float64) []float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s
}

func kernel(r Result) string {
	if r.KernelSeconds == nil {
		return "n/a"
	}
	return Dur(*r.KernelSeconds)
}

// host formats the host time per step and the dispatches per step.
func host(r Result) (seconds, dispatches string) {
	if r.HostSeconds == nil || r.DispatchesPerStep == nil {
		return "n/a", "n/a"
	}
	return Dur(*r.HostSeconds), strconv.FormatFloat(*r.DispatchesPerStep, 'g', 4, 64)
}

// WriteTable prints the report as an aligned table with its notes.
func WriteTable(w io.Writer, rep *Report) error {
	fmt.Fprintf(w, "workload: %s\ndata:     %s\nmachine:  %s, %d cores, %s, %s\n\n",
		rep.Workload, rep.Data, rep.Machine.CPU, rep.Machine.Cores, rep.Machine.OS, rep.Machine.GoVersion)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	preset := rep.Preset != ""
	if preset {
		fmt.Fprintln(tw, "DEVICE\tADAPTER\tBATCH\tSTEPS\tWALL\tSTART-UP\tSTEP\tSAMPLES/S\tGFLOP/S\tFINAL LOSS\tACC\tDEV MEM\tHOST RSS\t")
	} else {
		fmt.Fprintln(tw, "DEVICE\tADAPTER\tBATCH\tSTEPS×REPS\tSTEP (MEDIAN)\tMIN…MAX\tSAMPLES/S\tGFLOP/S\tKERNEL\tHOST\tDISP/STEP\tDEV MEM\tHOST RSS\t")
	}
	for _, r := range rep.Results {
		if r.Skipped != "" {
			continue
		}
		adapter := r.Adapter
		if len(adapter) > 40 {
			adapter = adapter[:39] + "…"
		}
		if preset {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.3fs\t%.3fs\t%s\t%.0f\t%.2f\t%.6f\t%.3f\t%s\t%s\t\n",
				r.Device, adapter, r.Batch, r.Steps, r.WallSeconds, r.StartupSeconds, Dur(r.StepSecondsMedian),
				r.SamplesPerSecond, r.GFLOPS, r.FinalLoss, r.FinalAccuracy, Bytes(r.DeviceBytes), Bytes(r.HostPeakRSSBytes))
			continue
		}
		hs, disp := host(r)
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d×%d\t%s\t%s…%s\t%.0f\t%.2f\t%s\t%s\t%s\t%s\t%s\t\n",
			r.Device, adapter, r.Batch, r.Steps, r.Reps, Dur(r.StepSecondsMedian), Dur(r.StepSecondsMin), Dur(r.StepSecondsMax),
			r.SamplesPerSecond, r.GFLOPS, kernel(r), hs, disp, Bytes(r.DeviceBytes), Bytes(r.HostPeakRSSBytes))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nGFLOP/s counts matmul work only (2·in·out forward, 4·in·out backward, 2·in·out for the first layer).")
	fmt.Fprintln(w, "KERNEL: GPU time per step from timestamp queries around each compute pass (median); n/a = none recorded (CPU backend, GL adapters, --timestamps=false).")
	if !preset {
		fmt.Fprintln(w, "HOST: host time to record one step and submit it, waits excluded (median; the first steps of each repetition, device idle). DISP/STEP: compute dispatches a step records. n/a on the CPU backend, which runs each operation as it is called.")
	}
	fmt.Fprintln(w, "DEV MEM: tensors of this configuration (GPU: backend live bytes; CPU: float64 storage). HOST RSS: process peak so far.")
	for dev, log := range rep.Autotune {
		for _, l := range log {
			fmt.Fprintf(w, "autotune (%s): %s\n", dev, l)
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

var csvHeader = []string{"device", "backend", "adapter", "adapter_type", "precision", "batch", "full_batch", "steps_per_rep", "reps",
	"step_seconds_median", "step_seconds_min", "step_seconds_max", "step_seconds_q1", "step_seconds_q3",
	"samples_per_second", "gflops", "kernel_seconds", "device_bytes", "gpu_peak_bytes", "host_peak_rss_bytes",
	"wall_seconds", "final_loss", "skipped", "host_seconds", "dispatches_per_step"}

// WriteCSV writes one row per result (skipped ones included, with the reason).
func WriteCSV(w io.Writer, rep *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, r := range rep.Results {
		ks, hs, ds := "", "", ""
		if r.KernelSeconds != nil {
			ks = g(*r.KernelSeconds)
		}
		if r.HostSeconds != nil {
			hs = g(*r.HostSeconds)
		}
		if r.DispatchesPerStep != nil {
			ds = g(*r.DispatchesPerStep)
		}
		row := []string{r.Device, r.Backend, r.Adapter, r.AdapterType, r.Precision, strconv.Itoa(r.Batch), strconv.FormatBool(r.FullBatch),
			strconv.Itoa(r.Steps), strconv.Itoa(r.Reps), g(r.StepSecondsMedian), g(r.StepSecondsMin), g(r.StepSecondsMax),
			g(r.StepSecondsQ1), g(r.StepSecondsQ3), g(r.SamplesPerSecond), g(r.GFLOPS), ks,
			strconv.FormatUint(r.DeviceBytes, 10), strconv.FormatUint(r.GPUPeakBytes, 10), strconv.FormatUint(r.HostPeakRSSBytes, 10),
			g(r.WallSeconds), g(r.FinalLoss), r.Skipped, hs, ds}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WritePlot writes a PNG of samples/s against batch size, both axes
// logarithmic, one line per device.
func WritePlot(path string, rep *Report) error {
	p := plot.New()
	p.Title.Text = "gputrain bench — " + rep.Workload
	p.X.Label.Text = "batch size"
	p.Y.Label.Text = "samples / s"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	var order []string
	lines := map[string]plotter.XYs{}
	for _, r := range rep.Results {
		if r.Skipped != "" || r.SamplesPerSecond <= 0 {
			continue
		}
		key := r.Device + " (" + r.Adapter + ")"
		if _, ok := lines[key]; !ok {
			order = append(order, key)
		}
		lines[key] = append(lines[key], plotter.XY{X: float64(r.Batch), Y: r.SamplesPerSecond})
	}
	if len(order) == 0 {
		return fmt.Errorf("plot %s: no measured results", path)
	}
	for i, k := range order {
		l, pts, err := plotter.NewLinePoints(lines[k])
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		l.Color, pts.Color = plotio.Color(i), plotio.Color(i)
		p.Add(l, pts)
		p.Legend.Add(k, l, pts)
	}
	img := vgimg.New(16*vg.Centimeter, 11*vg.Centimeter)
	p.Draw(draw.New(img))
	return plotio.WritePNG(path, img)
}
