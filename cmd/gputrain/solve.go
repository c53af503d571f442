package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gputrain/gputrain/linear"
	"github.com/gputrain/gputrain/table"
)

func init() {
	register(&command{name: "solve", summary: "solve a linear system A·x = y by gradient descent on the mean squared error", run: runSolve})
}

// solveResult is the --json output of solve.
type solveResult struct {
	Device  string       `json:"device"`
	Backend string       `json:"backend"`
	Adapter string       `json:"adapter"`
	X       []float64    `json:"x"`
	AX      []float64    `json:"ax"`
	Y       []float64    `json:"y"`
	Losses  [][2]float64 `json:"losses"`
}

func runSolve(e *env, args []string) error {
	fs := newFlags(e, "solve", "[--a ROWS --y VALUES | --csv FILE] [flags]")
	aFlag := fs.String("a", "5,1,-1;2,-1,1;1,3,-2", "the matrix A: rows separated by ';', values by ','")
	yFlag := fs.String("y", "1,4,0", "the right-hand side y")
	csvFile := fs.String("csv", "", "read the system from `FILE`: one equation per line, the coefficients then y (no header)")
	lr := fs.Float64("lr", 0.01, "learning rate")
	iters := fs.Int("iters", 10000, "gradient-descent iterations")
	every := fs.Int("every", 1000, "print the loss at iteration 0 (x = 0) and every N iterations")
	device := fs.String("device", "auto", deviceHelp)
	asJSON := fs.Bool("json", false, "print one JSON object on stdout at the end")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkLR(*lr); err != nil {
		return err
	}
	if *iters < 1 {
		return usagef("--iters %d must be at least 1", *iters)
	}
	if *every < 1 {
		return usagef("--every %d must be at least 1", *every)
	}
	if err := checkDevice(*device); err != nil {
		return err
	}
	var A [][]float64
	var y []float64
	var err error
	if set := setFlags(fs); *csvFile != "" && (set["a"] || set["y"]) {
		return usagef("--csv and --a/--y are two systems: give one")
	}
	if *csvFile != "" {
		A, y, err = readSystemCSV(*csvFile)
		if err != nil {
			return err
		}
	} else if A, y, err = parseSystem(*aFlag, *yFlag); err != nil {
		return err
	}
	b, why, err := openDevice(*device, false)
	if err != nil {
		return err
	}
	defer b.Close()
	announce(e, b, why, false)
	res := solveResult{Y: y}
	info := b.Info()
	res.Device, res.Backend, res.Adapter = info.Kind, info.API, info.Adapter
	x, err := linear.SolveLinear(e.ctx, b, A, y, *lr, *iters, *every, func(it int, loss float64) {
		res.Losses = append(res.Losses, [2]float64{float64(it), loss})
		if !*asJSON {
			// All the digits of a float64, as Python prints the tutorial's.
			fmt.Fprintf(e.stdout, "iteration %6d: loss %s\n", it, strconv.FormatFloat(loss, 'g', -1, 64))
		}
	})
	if err != nil {
		return flagDivergence(err)
	}
	res.X = x
	res.AX = make([]float64, len(A))
	for i, row := range A {
		for j, v := range row {
			res.AX[i] += v * x[j]
		}
	}
	if *asJSON {
		return writeJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "x   = %s\nA·x = %s\ny   = %s\n", vec(res.X), vec(res.AX), vec(y))
	return nil
}

// parseSystem parses solve's --a (rows separated by ';', values by ',')
// and --y flags into the system A·x ≈ y.
func parseSystem(aFlag, yFlag string) (A [][]float64, y []float64, err error) {
	for i, row := range strings.Split(aFlag, ";") {
		r, err := parseFloats("a", row)
		if err != nil {
			return nil, nil, err
		}
		if len(A) > 0 && len(r) != len(A[0]) {
			return nil, nil, usagef("--a: row %d has %d values, row 1 has %d", i+1, len(r), len(A[0]))
		}
		A = append(A, r)
	}
	if y, err = parseFloats("y", yFlag); err != nil {
		return nil, nil, err
	}
	if len(y) != len(A) {
		return nil, nil, usagef("--y has %d values for the %d rows of --a", len(y), len(A))
	}
	return A, y, nil
}

func vec(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'g', 6, 64)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// readSystemCSV reads one equation per line: coefficients, then y.
func readSystemCSV(path string) ([][]float64, []float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r := table.NewCSVReader(path, f) // a row past table.MaxRowBytes is an error
	recs, err := r.ReadAll()
	if errors.Is(err, table.ErrRowTooLong) {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, nil, fmt.Errorf("%s: empty file, want one equation per line (coefficients, then y)", path)
	}
	var A [][]float64
	var y []float64
	for i, rec := range recs {
		if len(rec) < 2 {
			return nil, nil, fmt.Errorf("%s: line %d: %d values, want coefficients and y", path, i+1, len(rec))
		}
		if len(rec) != len(recs[0]) {
			return nil, nil, fmt.Errorf("%s: line %d has %d values, line 1 has %d", path, i+1, len(rec), len(recs[0]))
		}
		row := make([]float64, len(rec))
		for j, s := range rec {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: line %d, column %d: %q is not a number", path, i+1, j+1, s)
			}
			row[j] = v
		}
		A = append(A, row[:len(row)-1])
		y = append(y, row[len(row)-1])
	}
	return A, y, nil
}
