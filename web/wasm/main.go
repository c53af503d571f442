//go:build js

// Command wasm is gputrain in a web page: the same Go trainer, backends
// and conformance suite, compiled with GOOS=js GOARCH=wasm and run on the
// browser's WebGPU through package gpu. It sets globalThis.gputrain to an
// object of three functions, each returning a Promise, and then calls
// globalThis.onGputrainReady if the page defined it:
//
//	gputrain.adapter()             → JSON: the adapter and its limits
//	gputrain.check(opts, onRow)    → JSON: the conformance suite's results
//	gputrain.train(opts, onEpoch)  → {json, checkpoint}: the run and the model
//
// opts and every callback's argument are JSON strings; checkpoint is a
// Uint8Array holding the safetensors file that `gputrain eval` reads.
// Package web serves it with its page (see ../page/index.html).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"syscall/js"
	"time"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/conformance"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/fit"
	"github.com/gputrain/gputrain/gpu"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/table"
)

func main() {
	api := js.Global().Get("Object").New()
	api.Set("adapter", promiseFunc(adapter))
	api.Set("check", promiseFunc(check))
	api.Set("train", promiseFunc(train))
	api.Set("goVersion", runtime.Version())
	js.Global().Set("gputrain", api)
	if f := js.Global().Get("onGputrainReady"); f.Type() == js.TypeFunction {
		f.Invoke()
	}
	select {} // serve calls until the page goes away
}

// promiseFunc makes fn a JavaScript function that returns a Promise and
// runs fn on a goroutine of its own: fn blocks on the browser's promises
// (the GPU's work), which must never happen inside the callback itself.
func promiseFunc(fn func(args []js.Value) (any, error)) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) any {
		exec := js.FuncOf(func(_ js.Value, pr []js.Value) any {
			resolve, reject := pr[0], pr[1]
			go func() {
				defer func() {
					if r := recover(); r != nil {
						reject.Invoke(js.Global().Get("Error").New(fmt.Sprint("gputrain panicked: ", r)))
					}
				}()
				v, err := fn(args)
				if err != nil {
					reject.Invoke(js.Global().Get("Error").New(err.Error()))
					return
				}
				resolve.Invoke(v)
			}()
			return nil
		})
		defer exec.Release() // the Promise constructor calls it at once
		return js.Global().Get("Promise").New(exec)
	})
}

// arg returns args[i] as a string (a JSON text), or "" when absent.
func arg(args []js.Value, i int) string {
	if i < len(args) && args[i].Type() == js.TypeString {
		return args[i].String()
	}
	return ""
}

// callback returns args[i] as a function of one JSON string, or one that
// does nothing when absent.
func callback(args []js.Value, i int) func(v any) {
	if i >= len(args) || args[i].Type() != js.TypeFunction {
		return func(any) {}
	}
	f := args[i]
	return func(v any) {
		b, err := json.Marshal(v)
		if err == nil {
			f.Invoke(string(b))
		}
	}
}

func toJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// deviceJSON describes the adapter a run used.
type deviceJSON struct {
	Adapter   string     `json:"adapter"`
	Type      string     `json:"type"`
	API       string     `json:"api"`
	Limits    gpu.Limits `json:"limits"`
	UserAgent string     `json:"user_agent"`
	GoVersion string     `json:"go_version"`
}

func describe(b *gpu.Backend) deviceJSON {
	a := b.Adapter()
	return deviceJSON{Adapter: a.Name, Type: a.Type, API: a.API, Limits: a.Limits,
		UserAgent: js.Global().Get("navigator").Get("userAgent").String(), GoVersion: runtime.Version()}
}

// open opens the page's WebGPU device, with a message that says what to do
// when the browser has none.
func open() (*gpu.Backend, error) {
	if !js.Global().Get("navigator").Get("gpu").Truthy() {
		return nil, errors.New("this browser has no WebGPU (navigator.gpu is undefined): use a recent Chrome or Edge, or Firefox or Safari with WebGPU enabled, over https or http://127.0.0.1")
	}
	b, err := gpu.Open(gpu.Options{Device: "any"})
	if err != nil {
		return nil, fmt.Errorf("opening the browser's WebGPU: %w", err)
	}
	return b, nil
}

func adapter([]js.Value) (any, error) {
	b, err := open()
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return toJSON(describe(b))
}

// checkRow is one case of the suite, as cmd/gputrain's check --json writes
// it.
type checkRow struct {
	Op       string   `json:"op"`
	Case     string   `json:"case"`
	MaxRatio *float64 `json:"max_ratio"`
	Compared int      `json:"compared"`
	Pass     bool     `json:"pass"`
	Failures []string `json:"failures,omitempty"`
	// Seconds is the time since the previous case ended (the first:
	// since the suite began), shader compiles included.
	Seconds float64 `json:"seconds"`
}

type checkJSON struct {
	deviceJSON
	Size    string     `json:"size"`
	Passed  int        `json:"passed"`
	Failed  int        `json:"failed"`
	Seconds float64    `json:"seconds"`
	Checks  []checkRow `json:"checks"`
}

func row(r conformance.Result) checkRow {
	c := checkRow{Op: r.Op, Case: r.Case, Compared: r.Compared, Pass: r.Pass, Failures: r.Failures}
	if !math.IsInf(r.MaxRatio, 0) && !math.IsNaN(r.MaxRatio) {
		v := r.MaxRatio
		c.MaxRatio = &v
	}
	return c
}

// check runs the conformance suite (opts.size: quick, standard or full) on
// the page's device, calling onRow with each case as it ends.
func check(args []js.Value) (any, error) {
	var opts struct {
		Size string `json:"size"`
	}
	if s := arg(args, 0); s != "" {
		if err := json.Unmarshal([]byte(s), &opts); err != nil {
			return nil, fmt.Errorf("check options: %w", err)
		}
	}
	size := conformance.Quick
	switch strings.ToLower(opts.Size) {
	case "", "quick":
	case "standard":
		size = conformance.Standard
	case "full":
		size = conformance.Full
	default:
		return nil, fmt.Errorf("unknown suite size %q (quick, standard or full)", opts.Size)
	}
	onRow := callback(args, 1)
	b, err := open()
	if err != nil {
		return nil, err
	}
	defer b.Close()
	out := checkJSON{deviceJSON: describe(b), Size: size.String(), Checks: []checkRow{}}
	start := time.Now()
	last := start
	res := conformance.Run(b, conformance.Options{Size: size, Progress: func(r conformance.Result) {
		c := row(r)
		now := time.Now()
		c.Seconds, last = now.Sub(last).Seconds(), now
		out.Checks = append(out.Checks, c)
		onRow(c)
	}})
	out.Seconds = time.Since(start).Seconds()
	for _, r := range res {
		if r.Pass {
			out.Passed++
		} else {
			out.Failed++
		}
	}
	return toJSON(out)
}

// trainOpts are the page's controls.
type trainOpts struct {
	Data       string  `json:"data"`   // "digits" or "csv"
	CSV        string  `json:"csv"`    // the table's text, for "csv"
	Target     string  `json:"target"` // the column to predict, for "csv"
	Hidden     []int   `json:"hidden"`
	Activation string  `json:"activation"`
	Epochs     int     `json:"epochs"`
	Batch      int     `json:"batch"`
	LR         float64 `json:"lr"`
	Optimizer  string  `json:"optimizer"`
	Seed       uint64  `json:"seed"`
}

type epochJSON struct {
	Epoch    int      `json:"epoch"`
	Loss     float64  `json:"loss"`
	Accuracy *float64 `json:"accuracy"`
	Seconds  float64  `json:"seconds"`
	Samples  float64  `json:"samples_per_sec"`
}

type trainJSON struct {
	deviceJSON
	Data     string      `json:"data"`
	Rows     int         `json:"rows"`
	TestRows int         `json:"test_rows"`
	Hidden   []int       `json:"hidden"`
	Epochs   []epochJSON `json:"epochs"`
	Test     string      `json:"test"` // nn.Score's text
	TestLoss float64     `json:"test_loss"`
	TestAcc  *float64    `json:"test_accuracy"`
	Seconds  float64     `json:"seconds"`
	Bytes    int         `json:"checkpoint_bytes"`
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// dataFor loads the data the options name.
func dataFor(o trainOpts) (*fit.Data, string, error) {
	switch o.Data {
	case "", "digits":
		s, err := data.Digits()
		if err != nil {
			return nil, "", err
		}
		return &fit.Data{Train: s.Train, Test: s.Test}, "digits", nil
	case "csv":
		if strings.TrimSpace(o.Target) == "" {
			return nil, "", errors.New("name the CSV column to predict")
		}
		t, err := table.ReadFrom(strings.NewReader(o.CSV), "the dropped CSV")
		if err != nil {
			return nil, "", err
		}
		d, _, err := fit.FromTable(t, nil, table.Defaults(o.Target))
		if err != nil {
			return nil, "", err
		}
		return d, "csv (" + o.Target + ")", nil
	}
	return nil, "", fmt.Errorf("unknown data %q (digits or csv)", o.Data)
}

// train trains a model with the page's options on its device, calling
// onEpoch after every epoch, and returns the run and the checkpoint.
func train(args []js.Value) (any, error) {
	var o trainOpts
	if s := arg(args, 0); s != "" {
		if err := json.Unmarshal([]byte(s), &o); err != nil {
			return nil, fmt.Errorf("train options: %w", err)
		}
	}
	onEpoch := callback(args, 1)
	d, name, err := dataFor(o)
	if err != nil {
		return nil, err
	}
	opt := fit.Defaults(d)
	if o.Hidden != nil {
		opt.Hidden = o.Hidden
	}
	if o.Activation != "" {
		a, err := backend.ParseActivation(o.Activation)
		if err != nil {
			return nil, err
		}
		opt.Activation = a
	}
	if o.Optimizer != "" {
		op, err := nn.ParseOptimizer(o.Optimizer)
		if err != nil {
			return nil, err
		}
		opt.Optimizer = op
	}
	if o.Epochs > 0 {
		opt.Epochs = o.Epochs
	}
	if o.Batch > 0 {
		opt.Batch = o.Batch
	}
	if o.LR > 0 {
		opt.LR = o.LR
	}
	if o.Seed > 0 {
		opt.Seed, opt.ValSeed = o.Seed, o.Seed
	}
	b, err := open()
	if err != nil {
		return nil, err
	}
	defer b.Close()
	opt.Backend = b
	out := trainJSON{deviceJSON: describe(b), Data: name, Rows: d.Train.Rows, Hidden: opt.Hidden, Epochs: []epochJSON{}}
	if d.Test != nil {
		out.TestRows = d.Test.Rows
	}
	opt.Hooks.Epoch = func(st nn.EpochStats) {
		e := epochJSON{Epoch: st.Epoch, Loss: st.Loss, Accuracy: finite(st.Accuracy), Seconds: st.Duration.Seconds(), Samples: st.SamplesPerSec}
		out.Epochs = append(out.Epochs, e)
		onEpoch(e)
	}
	start := time.Now()
	m, err := fit.Train(context.Background(), d, &opt)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	out.Seconds = time.Since(start).Seconds()
	if d.Test != nil {
		sc, err := m.Evaluate(d.Test)
		if err != nil {
			return nil, fmt.Errorf("evaluating on the test split: %w", err)
		}
		out.Test, out.TestLoss = sc.String(), sc.Loss
		if sc.Regression == nil {
			out.TestAcc = finite(sc.Accuracy)
		}
	}
	ck, err := m.Net().Checkpoint()
	if err != nil {
		return nil, fmt.Errorf("writing the checkpoint: %w", err)
	}
	out.Bytes = len(ck)
	j, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	arr := js.Global().Get("Uint8Array").New(len(ck))
	js.CopyBytesToJS(arr, ck)
	res := js.Global().Get("Object").New()
	res.Set("json", string(j))
	res.Set("checkpoint", arr)
	return res, nil
}
