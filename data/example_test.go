package data_test

import (
	"fmt"
	"os"

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
