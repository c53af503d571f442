package table_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gputrain/gputrain/table"
)

// Synthetic needs no files: it renders digits deterministically from a seed.
func ExampleLoadCSV() {
	f, _ := os.CreateTemp("", "houses-*.csv")
	defer os.Remove(f.Name())
	fmt.Fprint(f, "LotArea,Street,SalePrice\n8450,Pave,208500\n9600,Pave,NA\n11250,Pave,223500\n")
	f.Close()

	set, rep, err := table.LoadCSV(f.Name(), []string{"LotArea"}, "SalePrice", table.NADrop)
	if err != nil {
		panic(err)
	}
	fmt.Println(set.Rows, "rows,", rep.Dropped, "dropped")
	fmt.Println(set.FeatureNames, set.Features, set.TargetNames, set.Labels)
	// Output:
	// 2 rows, 1 dropped
	// [LotArea] [8450 11250] [SalePrice] [208500 223500]
}

// Fit learns how to encode a CSV table — numbers as they are, text
// one-hot, missing cells filled — from its training rows; the encoder then
// encodes other files with the same columns, e.g. for prediction.
func ExampleFit() {
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
	tb, err := table.Read(path)
	if err != nil {
		panic(err)
	}
	enc, split, _, err := table.Fit(tb, tb, table.Options{Target: "price", NA: table.NAFill, Task: table.TaskRegress})
	if err != nil {
		panic(err)
	}
	fmt.Println(enc.Task, enc.FeatureNames())
	fmt.Println(split.Train.Features[:8], split.Train.Labels)
	// Output:
	// regress [area district=north district=south district=(missing)]
	// [50 1 0 0 70 0 1 0] [150 160 170 230]
}
