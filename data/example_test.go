package data_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gputrain/gputrain/data"
)

// Synthetic needs no files: it renders digits deterministically from a seed.
func ExampleSynthetic() {
	sp := data.Synthetic(600, 100, 1)
	fmt.Println(sp.Train.Rows, sp.Test.Rows, sp.Train.Cols, sp.Train.Classes, sp.Synthetic)
	bin, err := sp.Subset([]int{0, 1}) // the binary task: digit 0 -> class 0, 1 -> 1
	if err != nil {
		panic(err)
	}
	fmt.Println(bin.Train.Classes)
	// Output:
	// 600 100 784 10 true
	// 2
}

// Digits is real data embedded in the package: the UCI handwritten digits,
// split 80/20 by class, the same way every time.
func ExampleDigits() {
	sp, err := data.Digits()
	if err != nil {
		panic(err)
	}
	fmt.Println(sp.Train.Rows, sp.Test.Rows, sp.Train.Width, sp.Train.Height, sp.Train.PixelScale())
	fmt.Println(sp.Test.ClassCounts())
	// Output:
	// 1438 359 8 8 0.0625
	// [36 36 35 37 36 36 36 36 35 36]
}

// HoldOut keeps the class proportions in both parts (here a validation set
// of a tenth of the training set).
func ExampleSet_HoldOut() {
	sp, err := data.Digits()
	if err != nil {
		panic(err)
	}
	train, val, err := sp.Train.HoldOut(0.1, 1)
	if err != nil {
		panic(err)
	}
	fmt.Println(train.Rows, val.Rows, val.Name)
	fmt.Println(val.ClassCounts())
	// Output:
	// 1293 145 digits train (held out)
	// [14 15 14 15 15 15 15 14 14 14]
}

// LoadIDX reads an MNIST-layout folder, such as the one Debian's package
// dataset-fashion-mnist installs.
func ExampleLoadIDX() {
	dir, err := data.Resolve("fashion-mnist")
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // names the apt-get package to install
		return
	}
	sp, err := data.LoadIDX(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println(sp.Train.Rows, sp.Test.Rows, sp.Train.Width, sp.Train.Height)
}

// LoadCSV picks numeric columns by name and, under NADrop, skips the rows
// with a missing cell in them.
func ExampleLoadCSV() {
	f, _ := os.CreateTemp("", "houses-*.csv")
	defer os.Remove(f.Name())
	fmt.Fprint(f, "LotArea,Street,SalePrice\n8450,Pave,208500\n9600,Pave,NA\n11250,Pave,223500\n")
	f.Close()

	set, rep, err := data.LoadCSV(f.Name(), []string{"LotArea"}, "SalePrice", data.NADrop)
	if err != nil {
		panic(err)
	}
	fmt.Println(set.Rows, "rows,", rep.Dropped, "dropped")
	fmt.Println(set.FeatureNames, set.Features, set.TargetNames, set.Labels)
	// Output:
	// 2 rows, 1 dropped
	// [LotArea] [8450 11250] [SalePrice] [208500 223500]
}

// FitTable learns how to encode a CSV table — numbers as they are, text
// one-hot, missing cells filled — from its training rows; the encoder then
// encodes other files with the same columns, e.g. for prediction.
func ExampleFitTable() {
	dir, err := os.MkdirTemp("", "table")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "flats.csv")
	csv := "area,district,price\n50,north,150\n70,south,160\n65,NA,170\n80,north,230\n"
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		panic(err)
	}
	tb, err := data.ReadTable(path)
	if err != nil {
		panic(err)
	}
	enc, split, _, err := data.FitTable(tb, tb, data.TableOptions{Target: "price", NA: data.NAFill, Task: data.TaskRegress})
	if err != nil {
		panic(err)
	}
	fmt.Println(enc.Task, enc.FeatureNames())
	fmt.Println(split.Train.Features[:8], split.Train.Labels)
	// Output:
	// regress [area district=north district=south district=(missing)]
	// [50 1 0 0 70 0 1 0] [150 160 170 230]
}
