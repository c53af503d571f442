package fit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/fit"
	"github.com/gputrain/gputrain/table"
)

// Train a classifier from rows and predict. The CPU reference backend makes
// the run exact; without Options.Backend, Train picks the device itself.
func Example() {
	x := [][]float64{{0, 0}, {0, 1}, {1, 0}, {1, 1}}
	labels := []int{0, 1, 1, 0} // exclusive or
	d, err := fit.Classification(x, labels)
	if err != nil {
		panic(err)
	}
	opt := fit.Defaults(d) // 64,32 relu, Adam lr 0.001, batch 16, 50 epochs
	opt.Epochs, opt.LR = 300, 0.01
	opt.Backend = cpuref.New()
	defer opt.Backend.Close()
	m, err := fit.Train(context.Background(), d, &opt)
	if err != nil {
		panic(err)
	}
	defer m.Close()
	p, err := m.Predict(x)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Net().Spec, "classes", p.Classes)
	fmt.Printf("p(class 1 | 0,1) > 0.9: %v\n", p.Probs[1][1] > 0.9)
	// Output:
	// 2-64-32-1 relu binary classes [0 1 1 0]
	// p(class 1 | 0,1) > 0.9: true
}

// A regression from rows: y = 3x − 1, predicted in the target's units.
func ExampleRegression() {
	var x [][]float64
	var y []float64
	for i := range 40 {
		v := float64(i) / 4
		x = append(x, []float64{v})
		y = append(y, 3*v-1)
	}
	d, err := fit.Regression(x, y)
	if err != nil {
		panic(err)
	}
	opt := fit.Defaults(d)
	opt.Backend = cpuref.New()
	defer opt.Backend.Close()
	m, err := fit.Train(context.Background(), d, &opt)
	if err != nil {
		panic(err)
	}
	defer m.Close()
	p, err := m.Predict([][]float64{{2}, {5}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.1f %.1f\n", p.Values[0], p.Values[1])
	sc, err := m.Evaluate(d.Train)
	if err != nil {
		panic(err)
	}
	fmt.Println("R² above 0.99:", sc.Regression.R2 > 0.99)
	// Output:
	// 5.0 14.0
	// R² above 0.99: true
}

// Errors name the row and the column at fault.
func ExampleClassification_errors() {
	_, err := fit.Classification([][]float64{{1, 2}, {3}}, []int{0, 1})
	fmt.Println(err)
	_, err = fit.Regression([][]float64{{1}, {2}}, []float64{0})
	fmt.Println(err)
	// Output:
	// fit: row 1 has 1 features, want 2 as row 0 has
	// fit: 2 rows of features but 1 targets
}

// Train on a CSV table (text columns one-hot, numbers standardised), score
// the held-out fifth, save, load and predict raw rows.
func ExampleReadCSV() {
	dir, err := os.MkdirTemp("", "fit")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	var csv strings.Builder
	csv.WriteString("size,colour,price\n")
	colours := []string{"red", "green", "blue"}
	for i := range 60 {
		size, c := float64(i%10+1), i%3
		fmt.Fprintf(&csv, "%g,%s,%g\n", size, colours[c], 10*size+5*float64(c))
	}
	path := filepath.Join(dir, "prices.csv")
	if err := os.WriteFile(path, []byte(csv.String()), 0o644); err != nil {
		panic(err)
	}
	d, err := fit.ReadCSV(path, "price")
	if err != nil {
		panic(err)
	}
	opt := fit.Defaults(d)
	opt.Backend = cpuref.New()
	defer opt.Backend.Close()
	m, err := fit.Train(context.Background(), d, &opt)
	if err != nil {
		panic(err)
	}
	defer m.Close()
	sc, err := m.Evaluate(d.Test)
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Train.Rows, "training rows,", sc.Rows, "test rows; R² above 0.9:", sc.Regression.R2 > 0.9)

	saved := filepath.Join(dir, "prices.safetensors")
	if err := m.Save(saved); err != nil {
		panic(err)
	}
	m2, err := fit.Load(saved, opt.Backend)
	if err != nil {
		panic(err)
	}
	defer m2.Close()
	rows, err := table.ReadFrom(strings.NewReader("size,colour\n4,blue\n"), "new rows")
	if err != nil {
		panic(err)
	}
	p, err := m2.PredictTable(rows)
	if err != nil {
		panic(err)
	}
	fmt.Printf("size 4, blue: about 50: %v\n", p.Values[0] > 45 && p.Values[0] < 55)
	// Output:
	// 48 training rows, 12 test rows; R² above 0.9: true
	// size 4, blue: about 50: true
}
