package table

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/internal/shareddata"
)

// table writes content to a file named name in a fresh folder and reads it.
func table(t *testing.T, name, content string) *Table {
	t.Helper()
	tb, err := Read(writeFile(t, t.TempDir(), name, []byte(content)))
	require.NoError(t, err)
	return tb
}

func TestReadTableErrors(t *testing.T) {
	tests := []struct {
		name, content string
		want          []string
	}{
		{"empty", "", []string{"empty file"}},
		{"header only", "a,b\n", []string{"header only, no data rows"}},
		{"short row", "a,b,c\n1,2,3\n4,5\n", []string{"line 3: 2 fields but the header has 3 columns", `no value for column "c"`}},
		{"long row", "a,b\n1,2\n3,4,5\n", []string{"line 3: 3 fields", `past the last column "b"`}},
		{"bare quote", "a,b\n1,x\"y\n", []string{"line 2", `bare "`}},
		{"open quote", "a,b\n1,\"2\n", []string{"line 2", "extraneous or missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "bad.csv", []byte(tt.content))
			tb, err := Read(path)
			require.Error(t, err)
			assert.Nil(t, tb)
			assert.Contains(t, err.Error(), path)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	_, err := Read(filepath.Join(t.TempDir(), "none.csv"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestReadTableLinesAndTrim(t *testing.T) {
	tb := table(t, "t.csv", "\ufeff a ,b\n 1 , x \n\"two\nlines\",3\n4,\"y\"\n")
	assert.Equal(t, []string{"a", "b"}, tb.Header)
	require.Equal(t, 3, tb.Rows())
	assert.Equal(t, "x", tb.Cell(0, 1))
	assert.Equal(t, "two\nlines", tb.Cell(1, 0))
	assert.Equal(t, 3, tb.Line(1, 0))
	assert.Equal(t, 4, tb.Line(1, 1), "a cell after a field spanning lines has its own line")
	assert.Equal(t, 5, tb.Line(2, 0))
}

// small is a table of numbers and text with missing cells: size (number,
// NA on line 4), color (text, empty on line 5), y the target.
const small = `id,size,color,y
1,1.5,red,10
2,2.5,blue,20
3,NA,red,30
4,4.5,,40
5,5.5,green,50
`

// smallTest is a test table for small with an unseen color.
const smallTest = `y,color,size,id,extra
15,red,2,7,x
25,purple,3,8,y
`

func TestFitTableNAPolicies(t *testing.T) {
	train := table(t, "small.csv", small)
	opt := Options{Target: "y", Drop: []string{"id"}, Task: TaskRegress}

	_, _, _, err := Fit(train, table(t, "st.csv", smallTest), opt)
	require.Error(t, err, "NA error is the default")
	assert.Contains(t, err.Error(), train.Path)
	assert.Contains(t, err.Error(), `line 4, column "size": "NA" is missing`)

	opt.NA = NADrop
	enc, sp, rep, err := Fit(train, table(t, "st.csv", smallTest), opt)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.File.Dropped)
	assert.Equal(t, []int{4, 5}, rep.File.DroppedLines)
	assert.Equal(t, 3, sp.Train.Rows)
	assert.Equal(t, []string{"blue", "green", "red"}, enc.Columns[1].Categories)
	assert.False(t, enc.Columns[1].Missing)

	opt.NA = NAFill
	enc, sp, rep, err = Fit(train, table(t, "st.csv", smallTest), opt)
	require.NoError(t, err)
	require.Len(t, enc.Columns, 2)
	assert.Equal(t, Column{Name: "size", Kind: Number, Fill: 3.5}, enc.Columns[0], "fill is the training mean")
	assert.Equal(t, Column{Name: "color", Kind: Text, Categories: []string{"blue", "green", "red"}, Missing: true}, enc.Columns[1])
	assert.Equal(t, 5, enc.Width())
	assert.Equal(t, []string{"size", "color=blue", "color=green", "color=red", "color=(missing)"}, sp.Train.FeatureNames)
	assert.Equal(t, []bool{true, false, false, false, false}, enc.NumberInputs())
	assert.Equal(t, []float64{
		1.5, 0, 0, 1, 0,
		2.5, 1, 0, 0, 0,
		3.5, 0, 0, 1, 0, // NA size: the mean
		4.5, 0, 0, 0, 1, // empty color: its own category
		5.5, 0, 1, 0, 0,
	}, sp.Train.Features)
	assert.Equal(t, []float64{10, 20, 30, 40, 50}, sp.Train.Labels)
	assert.Equal(t, 2, rep.Train.Filled)
	assert.Equal(t, 0, sp.Train.Classes)
	assert.Equal(t, []string{"y"}, sp.Train.TargetNames)

	// The test table: columns in another order, an extra one ignored, an
	// unseen color encoded as all zeros and counted.
	assert.Equal(t, []float64{2, 0, 0, 1, 0, 3, 0, 0, 0, 0}, sp.Test.Features)
	assert.Equal(t, []float64{15, 25}, sp.Test.Labels)
	assert.Equal(t, 1, rep.Test.Unseen)
	assert.Contains(t, rep.Test.UnseenExample, `line 3, column "color": "purple"`)
	require.NoError(t, sp.Train.Validate())
	require.NoError(t, sp.Test.Validate())
}

func TestNASpellings(t *testing.T) {
	train := table(t, "na.csv", "a,b,y\nNA,x,1\nn/a,None,2\nNaN,?,3\nnull,x,4\n,x,5\n6,x,6\n7,y,7\n8,x,8\n9,y,9\n")
	enc, sp, rep, err := Fit(train, nil, Options{Target: "y", NA: NAFill, Task: TaskRegress, TestFraction: 0.2, Seed: 1})
	require.NoError(t, err)
	assert.Equal(t, Number, enc.Columns[0].Kind, "NA, n/a, NaN, null and empty are missing")
	assert.Equal(t, []string{"None", "x", "y"}, enc.Columns[1].Categories, `"None" is a category; "?" is missing`)
	assert.Equal(t, 9, sp.Train.Rows+sp.Test.Rows)
	assert.Positive(t, rep.Train.Filled+rep.Test.Filled)
}

func TestTableTask(t *testing.T) {
	ints := func(n int) string {
		var b strings.Builder
		b.WriteString("x,y\n")
		for i := range 2 * n {
			fmt.Fprintf(&b, "%d,%d\n", i, i%n)
		}
		return b.String()
	}
	tests := []struct {
		name, content string
		task          Task
		want          Task
		classes       []string
		err           string
	}{
		{"text target", "x,y\n1,cat\n2,dog\n3,cat\n4,dog\n5,cat\n", TaskAuto, TaskClassify, []string{"cat", "dog"}, ""},
		{"two integers", "x,y\n1,0\n2,1\n3,0\n4,1\n5,1\n", TaskAuto, TaskClassify, []string{"0", "1"}, ""},
		{"ten integers", ints(10), TaskAuto, TaskClassify, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, ""},
		{"eleven integers", ints(11), TaskAuto, TaskRegress, nil, ""},
		{"fractions", "x,y\n1,0.5\n2,1\n3,0.5\n4,1\n5,1\n", TaskAuto, TaskRegress, nil, ""},
		{"classify numbers in numeric order", "x,y\n1,10\n2,2\n3,1.0\n4,10\n5,2\n6,1\n", TaskClassify, TaskClassify, []string{"1", "2", "10"}, ""},
		{"regress integers", "x,y\n1,0\n2,1\n3,0\n4,1\n5,1\n", TaskRegress, TaskRegress, nil, ""},
		{"regress text", "x,y\n1,cat\n2,dog\n3,cat\n4,dog\n5,cat\n", TaskRegress, 0, nil, `line 2, column "y": "cat": the target holds text`},
		{"one class", "x,y\n1,cat\n2,cat\n3,cat\n", TaskAuto, 0, nil, `column "y": the target has one class, "cat"`},
		{"one value", "x,y\n1,2.5\n2,2.5\n3,2.5\n", TaskRegress, 0, nil, `column "y": the target has the single value 2.5`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			train := table(t, "task.csv", tt.content)
			enc, sp, rep, err := Fit(train, train, Options{Target: "y", Task: tt.task})
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), train.Path)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, enc.Task)
			assert.Equal(t, tt.classes, enc.Classes)
			assert.Equal(t, tt.classes, sp.Train.ClassNames, "class labels keep their text")
			assert.Equal(t, len(tt.classes), sp.Train.Classes)
			assert.NotEmpty(t, rep.TaskReason)
			require.NoError(t, sp.Train.Validate())
		})
	}
}

func TestTableColumnErrors(t *testing.T) {
	const tab = "a,b,y\n1,x,1\n2,y,2\n3,x,3\n"
	tests := []struct {
		name, content string
		opt           Options
		want          string
	}{
		{"no target", tab, Options{}, "no target column given"},
		{"unknown target", tab, Options{Target: "z"}, `line 1: no column "z"; the columns are: a, b, y`},
		{"unknown feature", tab, Options{Target: "y", Features: []string{"a", "q"}}, `no column "q"`},
		{"unknown drop", tab, Options{Target: "y", Drop: []string{"q"}}, `no column "q"`},
		{"drop the target", tab, Options{Target: "y", Drop: []string{"y"}}, `column "y" is the target`},
		{"target as feature", tab, Options{Target: "y", Features: []string{"a", "y"}}, `column "y" is both a feature and the target`},
		{"feature twice", tab, Options{Target: "y", Features: []string{"a", "a"}}, `feature column "a" given twice`},
		{"no features left", tab, Options{Target: "y", Drop: []string{"a", "b"}}, "no feature columns left"},
		{"column named twice", "a,b,a,y\n1,2,3,4\n5,6,7,8\n", Options{Target: "y"}, `column "a" appears twice in the header (columns 1 and 3)`},
		{"nameless column with values", "a,,y\n1,2,3\n4,5,6\n", Options{Target: "y"}, "column 2 has no name but holds values"},
		{"column with no values", "a,b,y\n1,NA,1\n2,,2\n", Options{Target: "y", NA: NAFill}, `column "b" has no values`},
		{"not finite", "a,b,y\n1,x,1\n1e999,y,2\n", Options{Target: "y", Task: TaskRegress}, `line 3, column "a": "1e999" is not a finite number`},
		{"infinite target", "a,y\n1,1\n2,-Inf\n", Options{Target: "y", Task: TaskRegress}, `line 3, column "y": "-Inf" is not a finite number`},
		{"bad fraction", tab, Options{Target: "y", TestFraction: 1}, "test fraction 1"},
		{"too few rows to hold out", "a,y\n1,1\n2,2\n", Options{Target: "y", TestFraction: 0.1, Task: TaskRegress}, "leaves 2 training and 0 test rows"},
		{"all rows dropped", "a,b,y\n1,NA,1\nNA,2,2\n", Options{Target: "y", NA: NADrop, TestFraction: 0.5}, "all 2 rows were dropped"},
		{"bad policy", tab, Options{Target: "y", NA: NAPolicy(9)}, "unknown NA policy"},
		{"bad cap", tab, Options{Target: "y", MaxCategories: -1}, "category cap -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			train := table(t, "cols.csv", tt.content)
			if tt.opt.TestFraction == 0 {
				tt.opt.TestFraction = 0.5
			}
			enc, sp, _, err := Fit(train, nil, tt.opt)
			require.Error(t, err)
			assert.Nil(t, enc)
			assert.Nil(t, sp)
			assert.Contains(t, err.Error(), train.Path)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestTableNamelessEmptyColumnSkipped(t *testing.T) {
	train := table(t, "trailing.csv", "a,y,\n1,1,\n2,2,\n3,3,\n4,4,\n")
	enc, _, _, err := Fit(train, nil, Options{Target: "y", Task: TaskRegress, TestFraction: 0.25})
	require.NoError(t, err)
	assert.Len(t, enc.Columns, 1, "a trailing comma is not a feature")
}

func TestTableCategoryCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("name,n,y\n")
	for i := range 12 {
		fmt.Fprintf(&b, "n%d,%d,%d\n", i, i, i%2)
	}
	b.WriteString("zz,12x,1\n")
	train := table(t, "cap.csv", b.String())
	_, _, _, err := Fit(train, train, Options{Target: "y", MaxCategories: 5, Features: []string{"name"}})
	require.Error(t, err)
	for _, w := range []string{train.Path, `column "name" holds text with 13 distinct values`, "cap of 5", "--drop name", "--features"} {
		assert.Contains(t, err.Error(), w)
	}
	_, _, _, err = Fit(train, train, Options{Target: "y", MaxCategories: 5, Features: []string{"n"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `it would be a number column but line 14 holds "12x"`)

	_, sp, _, err := Fit(train, train, Options{Target: "y", MaxCategories: 13, Features: []string{"name"}})
	require.NoError(t, err, "at the cap is fine")
	assert.Equal(t, 13, sp.Train.Cols)

	// The target's classes obey the cap too.
	_, _, _, err = Fit(train, train, Options{Target: "name", Task: TaskClassify, MaxCategories: 5})
	require.ErrorContains(t, err, "13 classes in the training rows, more than the cap of 5")
}

func TestTableEncodeErrors(t *testing.T) {
	train := table(t, "tr.csv", "a,c,y\n1,x,no\n2,y,yes\n3,x,no\n4,y,yes\n")
	enc, _, _, err := Fit(train, train, Options{Target: "y"})
	require.NoError(t, err)
	tests := []struct {
		name, content string
		want          string
	}{
		{"missing column", "a,y\n1,no\n", `line 1: no column "c"`},
		{"missing target", "a,c\n1,x\n", `no column "y"`},
		{"text in a number column", "a,c,y\n1,x,no\nabc,y,yes\n", `line 3, column "a": "abc" is not a number`},
		{"unknown class", "a,c,y\n1,x,no\n2,y,maybe\n", `line 3, column "y": class "maybe" is not one of the 2 classes of the training rows (no, yes)`},
		{"NA", "a,c,y\n1,x,no\n,y,yes\n", `line 3, column "a": "" is missing (NA)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := table(t, "ev.csv", tt.content)
			s, _, err := enc.Encode(tb, true)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), tb.Path)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	// Prediction needs no target column, and never reads one.
	tb := table(t, "pred.csv", "c,a\ny,5\nx,6\n")
	s, rep, err := enc.Encode(tb, false)
	require.NoError(t, err)
	assert.Nil(t, s.Labels)
	assert.Equal(t, []float64{5, 0, 1, 6, 1, 0}, s.Features)
	assert.Equal(t, []int{0, 1}, rep.Kept)
	s, _, err = enc.Encode(table(t, "pred2.csv", "a,c,y\n5,y,NA\n6,x,whatever\n"), false)
	require.NoError(t, err)
	assert.Equal(t, 2, s.Rows)
}

func TestHeldOut(t *testing.T) {
	strata := make([]int, 100)
	for i := range strata {
		strata[i] = i % 3
		if i >= 90 {
			strata[i] = 3 // a small class
		}
	}
	strata[99] = 4 // a class of one row stays in training
	for _, tc := range []struct {
		name   string
		strata []int
		groups int
	}{{"plain", nil, 0}, {"stratified", strata, 5}} {
		t.Run(tc.name, func(t *testing.T) {
			tr, te := data.HeldOut(100, tc.strata, tc.groups, 0.25, 7)
			tr2, te2 := data.HeldOut(100, tc.strata, tc.groups, 0.25, 7)
			assert.Equal(t, tr, tr2, "seeded")
			assert.Equal(t, te, te2)
			_, te3 := data.HeldOut(100, tc.strata, tc.groups, 0.25, 8)
			assert.NotEqual(t, te, te3, "another seed, another split")
			all := append(slices.Clone(tr), te...)
			slices.Sort(all)
			for i, v := range all {
				require.Equal(t, i, v, "the two parts partition the rows")
			}
			assert.True(t, slices.IsSorted(tr) && slices.IsSorted(te))
			if tc.strata == nil {
				assert.Len(t, te, 25)
				return
			}
			count := func(rows []int) []int {
				c := make([]int, 5)
				for _, r := range rows {
					c[strata[r]]++
				}
				return c
			}
			// floor(0.25·g + 0.5) of each class of g rows, leaving one in training.
			assert.Equal(t, []int{8, 8, 8, 2, 0}, count(te))
			assert.Equal(t, []int{22, 22, 22, 7, 1}, count(tr))
		})
	}
}

// TestEncoderSplitReproducesFitTable: a saved encoder splits the file it
// was fitted on into the same training and test rows (train --resume).
func TestEncoderSplitReproducesFitTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("a,c,y\n")
	for i := range 60 {
		c := []string{"p", "q", "r", "NA"}[i%4]
		fmt.Fprintf(&b, "%d,%s,%s\n", i*7%13, c, []string{"lo", "mid", "hi"}[i*i%3])
	}
	train := table(t, "re.csv", b.String())
	for _, na := range []NAPolicy{NADrop, NAFill} {
		enc, sp, rep, err := Fit(train, nil, Options{Target: "y", NA: na, TestFraction: 0.3, Seed: 5})
		require.NoError(t, err)
		sp2, rep2, err := enc.Split(train, nil, 0.3, 5)
		require.NoError(t, err)
		assert.Equal(t, rep.Train.Kept, rep2.Train.Kept, "NA %v", na)
		assert.Equal(t, rep.Test.Kept, rep2.Test.Kept, "NA %v", na)
		assert.Equal(t, sp.Train.Features, sp2.Train.Features)
		assert.Equal(t, sp.Test.Labels, sp2.Test.Labels)
		assert.Equal(t, sp.Test.Name, sp2.Test.Name)
		for _, s := range []*data.Set{sp2.Train, sp2.Test} {
			require.NoError(t, s.Validate())
			assert.Equal(t, sp.Train.FeatureNames, s.FeatureNames)
			assert.Equal(t, sp.Train.Classes, s.Classes)
			assert.Zero(t, s.Dropped)
		}
		assert.Equal(t, sp.Test.Features, sp2.Test.Features)
		assert.Equal(t, sp.Train.Labels, sp2.Train.Labels)
	}
}

func TestTableEncoderJSON(t *testing.T) {
	train := table(t, "j.csv", small)
	enc, _, _, err := Fit(train, train, Options{Target: "y", NA: NAFill, Drop: []string{"id"}, Task: TaskRegress})
	require.NoError(t, err)
	b, err := json.Marshal(enc)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"task":"regress"`)
	assert.Contains(t, string(b), `"na":"fill"`)
	var back Encoder
	require.NoError(t, json.Unmarshal(b, &back))
	require.NoError(t, back.Validate())
	s1, _, err := enc.Encode(train, true)
	require.NoError(t, err)
	s2, _, err := back.Encode(train, true)
	require.NoError(t, err)
	assert.Equal(t, s1, s2, "the decoded encoder encodes the same")

	bad := []struct {
		name string
		edit func(e *Encoder)
		want string
	}{
		{"no target", func(e *Encoder) { e.Target = "" }, "no target"},
		{"target kind", func(e *Encoder) { e.TargetKind = "date" }, "target kind"},
		{"policy", func(e *Encoder) { e.NA = 7 }, "NA policy"},
		{"no columns", func(e *Encoder) { e.Columns = nil }, "no feature columns"},
		{"column twice", func(e *Encoder) { e.Columns[1].Name = "size" }, "used twice"},
		{"column is target", func(e *Encoder) { e.Columns[0].Name = "y" }, "used twice"},
		{"unsorted categories", func(e *Encoder) { e.Columns[1].Categories = []string{"red", "blue"} }, "not sorted"},
		{"empty category", func(e *Encoder) { e.Columns[1].Categories = []string{""} }, "empty"},
		{"no categories", func(e *Encoder) { e.Columns[1].Categories, e.Columns[1].Missing = nil, false }, "no categories"},
		{"number with categories", func(e *Encoder) { e.Columns[0].Categories = []string{"a"} }, "has categories"},
		{"kind", func(e *Encoder) { e.Columns[0].Kind = "date" }, `kind "date"`},
		{"task", func(e *Encoder) { e.Task = TaskAuto }, "task auto"},
		{"one class", func(e *Encoder) { e.Task, e.Classes = TaskClassify, []string{"a"} }, "1 classes"},
		{"numeric classes unsorted", func(e *Encoder) { e.Task, e.Classes = TaskClassify, []string{"10", "2"} }, "not in increasing order"},
		{"regression with classes", func(e *Encoder) { e.Classes = []string{"a", "b"} }, "has classes"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var e Encoder
			require.NoError(t, json.Unmarshal(b, &e))
			tt.edit(&e)
			require.ErrorContains(t, e.Validate(), tt.want)
			_, _, err := e.Encode(train, true)
			require.Error(t, err, "an invalid encoder encodes nothing")
		})
	}
	var e Encoder
	require.Error(t, json.Unmarshal([]byte(`{"task":"guess"}`), &e))
	require.Error(t, json.Unmarshal([]byte(`{"na":"skip"}`), &e))
	require.Error(t, json.Unmarshal([]byte(`{"na":""}`), &e))
}

func TestRealTables(t *testing.T) {
	t.Run("housing", func(t *testing.T) {
		tb, err := Read(shareddata.Path(t, "housing/train.csv"))
		require.NoError(t, err)
		_, _, _, err = Fit(tb, nil, Options{Target: "SalePrice", TestFraction: 0.2, Seed: 1})
		require.ErrorContains(t, err, `line 2, column "Alley": "NA" is missing`, "NA error is the default")
		enc, sp, rep, err := Fit(tb, nil, Options{Target: "SalePrice", Drop: []string{"Id"}, NA: NAFill, TestFraction: 0.2, Seed: 1})
		require.NoError(t, err)
		assert.Equal(t, TaskRegress, enc.Task)
		// Utilities is "AllPub" in every training row (its one "NoSeWa" is
		// held out): left out, not fitted.
		assert.Equal(t, []ConstantColumn{{Name: "Utilities", Value: "AllPub"}}, rep.Constant)
		assert.Len(t, enc.Columns, 78)
		assert.Equal(t, 295, enc.Width())
		assert.Equal(t, 1168, sp.Train.Rows)
		assert.Equal(t, 292, sp.Test.Rows)
		assert.Equal(t, 0, rep.File.Dropped)
		for _, c := range enc.Columns {
			if c.Name == "MasVnrType" {
				assert.Contains(t, c.Categories, "None", "None is a category in Ames")
			}
		}
	})
	t.Run("breast cancer", func(t *testing.T) {
		tb, err := Read(shareddata.Path(t, "tabular/breast_cancer.csv"))
		require.NoError(t, err)
		enc, sp, _, err := Fit(tb, nil, Options{Target: "diagnosis", TestFraction: 0.2, Seed: 1})
		require.NoError(t, err)
		assert.Equal(t, TaskClassify, enc.Task)
		assert.Equal(t, []string{"benign", "malignant"}, enc.Classes)
		assert.Equal(t, 30, enc.Width())
		assert.Equal(t, []int{286, 170}, sp.Train.ClassCounts())
		assert.Equal(t, []int{71, 42}, sp.Test.ClassCounts(), "stratified: floor(0.2·357+0.5), floor(0.2·212+0.5)")
	})
}

// TestSklearnPeerSplit: bench/sklearn_mlp.py holds out exactly the rows
// Fit holds out, so that docs/results.md's scikit-learn figures are measured
// on the same test rows. It needs only Python (the split uses no
// scikit-learn); GPUTRAIN_REQUIRE_PEERS=1 makes a missing python3 a
// failure.
func TestSklearnPeerSplit(t *testing.T) {
	python := ""
	for _, p := range []string{os.Getenv("GPUTRAIN_PYTHON"), "python3", "/usr/bin/python3"} {
		if p != "" && exec.Command(p, "-c", "import json").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		if os.Getenv("GPUTRAIN_REQUIRE_PEERS") == "1" {
			t.Fatal("GPUTRAIN_REQUIRE_PEERS=1 but there is no python3")
		}
		t.Skip("no python3")
	}
	var b strings.Builder
	b.WriteString("a,c,y\n")
	for i := range 97 {
		fmt.Fprintf(&b, "%d,%s,%s\n", i*7%13, []string{"p", "q", "NA", "r"}[i%4], []string{"lo", "mid", "hi", "lo"}[i*i%4])
	}
	synth := writeFile(t, t.TempDir(), "peer.csv", []byte(b.String()))
	cases := []struct {
		name, path string
		opt        Options
		args       []string
	}{
		{"stratified with drop", synth, Options{Target: "y", NA: NADrop, TestFraction: 0.3, Seed: 11}, []string{"--na", "drop", "--test-fraction", "0.3", "--split-seed", "11"}},
		{"regression with fill", synth, Options{Target: "a", NA: NAFill, Task: TaskRegress, TestFraction: 0.25, Seed: 3}, []string{"--na", "fill", "--task", "regress", "--test-fraction", "0.25", "--split-seed", "3"}},
	}
	if d, ok := shareddata.Dir(); ok {
		if p := filepath.Join(d, "housing/train.csv"); fileExists(p) {
			cases = append(cases, struct {
				name, path string
				opt        Options
				args       []string
			}{"housing", p, Options{Target: "SalePrice", Drop: []string{"Id"}, NA: NAFill, TestFraction: 0.2, Seed: 1}, []string{"--drop", "Id", "--na", "fill"}})
		}
		if p := filepath.Join(d, "tabular/breast_cancer.csv"); fileExists(p) {
			cases = append(cases, struct {
				name, path string
				opt        Options
				args       []string
			}{"breast cancer", p, Options{Target: "diagnosis", TestFraction: 0.2, Seed: 1}, nil})
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tb, err := Read(tc.path)
			require.NoError(t, err)
			enc, _, rep, err := Fit(tb, nil, tc.opt)
			require.NoError(t, err)
			args := append([]string{"../bench/sklearn_mlp.py", "--csv", tc.path, "--target", tc.opt.Target, "--print-split"}, tc.args...)
			out, err := exec.Command(python, args...).Output()
			require.NoError(t, err, "sklearn_mlp.py --print-split")
			var peer struct {
				Task        string
				Train, Test []int
			}
			require.NoError(t, json.Unmarshal(out, &peer), string(out))
			assert.Equal(t, enc.Task.String(), peer.Task)
			plus1 := func(rows []int) []int {
				out := make([]int, len(rows))
				for i, r := range rows {
					out[i] = r + 1
				}
				return out
			}
			assert.Equal(t, plus1(rep.Train.Kept), peer.Train)
			assert.Equal(t, plus1(rep.Test.Kept), peer.Test)
		})
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestConstantColumns: a column with one value in every training row is
// left out (and reported) when the features are every other column, and an
// error naming it when --features names it; one whose missing cells make a
// category of their own (NA fill) is not constant.
func TestConstantColumns(t *testing.T) {
	const csv = "k,n,t,u,v,y\n5,1,a,a,1,1\n5,2,a,NA,2,2\n5,3,a,a,NA,3\n5,4,a,a,4,4\n5,5,a,a,5,5\n5,6,a,a,6,6\n"
	tb := table(t, "c.csv", csv)
	enc, sp, rep, err := Fit(tb, tb, Options{Target: "y", Task: TaskRegress, NA: NAFill})
	require.NoError(t, err)
	assert.Equal(t, []ConstantColumn{{"k", "5"}, {"t", "a"}}, rep.Constant)
	var names []string
	for _, c := range enc.Columns {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"n", "u", "v"}, names, `"u" has a missing category, "v" a filled mean: they vary`)
	assert.Equal(t, enc.Width(), sp.Train.Cols)

	_, _, _, err = Fit(tb, tb, Options{Target: "y", Task: TaskRegress, NA: NAFill, Features: []string{"n", "t"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `c.csv: column "t" holds one value, "a", in every training row`)
	assert.Contains(t, err.Error(), "leave it out of --features")

	// Under --na drop a constant column's missing cell dropped its row:
	// leaving the column out would bring the row back at encoding time.
	_, _, _, err = Fit(tb, tb, Options{Target: "y", Task: TaskRegress, NA: NADrop, Features: nil, Drop: []string{"u", "v"}})
	require.NoError(t, err)
	holed := table(t, "holed.csv", "k,n,y\n5,1,1\n5,2,2\nNA,3,3\n5,4,4\n")
	_, _, _, err = Fit(holed, holed, Options{Target: "y", Task: TaskRegress, NA: NADrop})
	assert.ErrorContains(t, err, `holed.csv: column "k" holds one value, "5", in every training row, and its missing cells (line 4, …) dropped rows under NA policy drop: leave it out (--drop k)`)

	only := table(t, "only.csv", "k,t,y\n5,a,1\n5,a,2\n5,a,3\n")
	_, _, _, err = Fit(only, only, Options{Target: "y", Task: TaskRegress})
	assert.ErrorContains(t, err, `only.csv: every feature column holds one value in every training row ("k" always "5", "t" always "a")`)
}

// TestFitTableLearnsNothingFromHeldOutRows: the fill values, categories and
// constant columns come from the rows training learns from, never from the
// test rows nor the rows training holds out for validation (ValFraction):
// an outlier or a category that only held-out rows have leaves the fit as
// the training rows alone make it. The validation rows Fit leaves out
// are those Set.HoldOut then draws from the encoded training set.
func TestFitTableLearnsNothingFromHeldOutRows(t *testing.T) {
	const rows = 50
	var b strings.Builder
	b.WriteString("x,c,k,y\n")
	for i := range rows {
		fmt.Fprintf(&b, "%d,%s,%s,%s\n", i%7, []string{"p", "q", "NA"}[i%3], "same", []string{"lo", "hi"}[i%2])
	}
	clean := b.String()
	base := Options{Target: "y", NA: NAFill, Task: TaskClassify, TestFraction: 0.2, Seed: 3}
	// held returns the table rows (0-based) Fit holds out with opt:
	// test rows, or validation rows when val is set.
	held := func(opt Options, val bool) []int {
		_, sp, rep, err := Fit(table(t, "t.csv", clean), nil, opt)
		require.NoError(t, err)
		if !val {
			return rep.Test.Kept
		}
		// the rows HoldOut (nn.Train) holds out of the encoded training set
		_, hpos, err := sp.Train.HoldOutRows(opt.ValFraction, opt.ValSeed)
		require.NoError(t, err)
		out := make([]int, len(hpos))
		for k, p := range hpos {
			out[k] = rep.Train.Kept[p]
		}
		return out
	}
	for _, c := range []struct {
		name string
		opt  Options
		val  bool
	}{
		{"test rows", base, false},
		{"validation rows", func() Options { o := base; o.ValFraction, o.ValSeed = 0.25, 9; return o }(), true},
		{"validation rows of a regression", func() Options {
			o := base
			o.Target, o.Task, o.Drop, o.ValFraction, o.ValSeed = "x", TaskRegress, []string{"y"}, 0.3, 4
			return o
		}(), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := held(c.opt, c.val)
			require.NotEmpty(t, out)
			// The same rows, but where held out: an outlier in x, a new
			// category in c, and k no longer constant.
			lines := strings.Split(strings.TrimSuffix(clean, "\n"), "\n")
			for _, i := range out {
				f := strings.Split(lines[i+1], ",")
				if c.opt.Target != "x" {
					f[0] = "1e9"
				}
				f[1], f[2] = "outlier", "other"
				lines[i+1] = strings.Join(f, ",")
			}
			changed := strings.Join(lines, "\n") + "\n"
			want, wsp, wrep, err := Fit(table(t, "t.csv", clean), nil, c.opt)
			require.NoError(t, err)
			got, gsp, grep, err := Fit(table(t, "t.csv", changed), nil, c.opt)
			require.NoError(t, err)
			assert.Equal(t, want.Columns, got.Columns, "fill values, categories")
			assert.Equal(t, wrep.Constant, grep.Constant, "k is constant in the rows learned from")
			assert.Equal(t, []ConstantColumn{{Name: "k", Value: "same"}}, grep.Constant)
			assert.Equal(t, want.Classes, got.Classes)
			assert.Equal(t, wrep.Train.Kept, grep.Train.Kept)
			if c.opt.Target != "x" {
				// the encoded held-out rows do show the outlier
				assert.Contains(t, append(gsp.Train.Features, gsp.Test.Features...), 1e9)
				assert.NotContains(t, append(wsp.Train.Features, wsp.Test.Features...), 1e9)
			}
		})
	}

	_, _, _, err := Fit(table(t, "t.csv", clean), nil, Options{Target: "y", TestFraction: 0.2, ValFraction: 1})
	assert.ErrorContains(t, err, "validation fraction 1, want 0 (none) or a number between 0 and 1")
}
