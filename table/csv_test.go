package table

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadCSV(t *testing.T) {
	const good = "Id,LotArea,Street,SalePrice\n1,8450,Pave,208500\n2,9600,Pave,181500\n3, 11250 ,Pave,223500\n"
	tests := []struct {
		name     string
		content  string
		x        []string
		y        string
		na       NAPolicy
		features []float64
		labels   []float64
		dropped  int
		wantErr  []string
	}{
		{name: "good", content: good, x: []string{"LotArea"}, y: "SalePrice",
			features: []float64{8450, 9600, 11250}, labels: []float64{208500, 181500, 223500}},
		{name: "two features in given order", content: good, x: []string{"LotArea", "Id"}, y: "SalePrice",
			features: []float64{8450, 1, 9600, 2, 11250, 3}, labels: []float64{208500, 181500, 223500}},
		{name: "bom crlf quotes", content: "\ufeffa,\"b\"\r\n\"1\",2e3\r\n-3.5,4\r\n", x: []string{"a"}, y: "b",
			features: []float64{1, -3.5}, labels: []float64{2000, 4}},
		{name: "no trailing newline", content: "a,b\n1,2", x: []string{"a"}, y: "b",
			features: []float64{1}, labels: []float64{2}},
		{name: "missing column", content: good, x: []string{"LotSize"}, y: "SalePrice",
			wantErr: []string{`no column "LotSize"`, "the columns are: Id, LotArea, Street, SalePrice"}},
		{name: "missing target", content: good, x: []string{"LotArea"}, y: "Price",
			wantErr: []string{`no column "Price"`}},
		{name: "NA error", content: "a,b\n1,2\n3,NA\n", x: []string{"a"}, y: "b",
			wantErr: []string{`line 3, column "b": "NA" is missing (NA)`}},
		{name: "empty cell error", content: "a,b\n1,2\n,4\n", x: []string{"a"}, y: "b",
			wantErr: []string{`line 3, column "a": "" is missing`}},
		{name: "non-numeric error", content: good, x: []string{"Street"}, y: "SalePrice",
			wantErr: []string{`line 2, column "Street": "Pave" is not a number`}},
		{name: "inf error", content: "a,b\n1,+Inf\n", x: []string{"a"}, y: "b",
			wantErr: []string{`line 2, column "b": "+Inf" is not finite`}},
		{name: "NA drop", content: "a,b,c\n1,2,x\nNA,4,x\n5,NaN,x\n7,8,x\n9,zz,x\n", x: []string{"a"}, y: "b", na: NADrop,
			features: []float64{1, 7}, labels: []float64{2, 8}, dropped: 3},
		{name: "all dropped", content: "a,b\nNA,1\n2,NA\n", x: []string{"a"}, y: "b", na: NADrop,
			wantErr: []string{"all 2 data rows were dropped"}},
		{name: "empty file", content: "", x: []string{"a"}, y: "b", wantErr: []string{"empty file"}},
		{name: "header only", content: "a,b\n", x: []string{"a"}, y: "b", wantErr: []string{"header only, no data rows"}},
		{name: "ragged", content: "a,b\n1,2\n3\n", x: []string{"a"}, y: "b",
			wantErr: []string{"line 3: 1 fields but the header has 2 columns"}},
		{name: "ragged long", content: "a,b\n1,2,3\n", x: []string{"a"}, y: "b",
			wantErr: []string{"line 2: 3 fields"}},
		{name: "bad quote", content: "a,b\n1,\"2\n", x: []string{"a"}, y: "b", wantErr: []string{"data.csv"}},
		{name: "duplicate header", content: "a,b,a\n1,2,3\n", x: []string{"a"}, y: "b",
			wantErr: []string{`column "a" appears twice`}},
		{name: "target is feature", content: good, x: []string{"Id"}, y: "Id", wantErr: []string{"both a feature and the target"}},
		{name: "feature twice", content: good, x: []string{"Id", "Id"}, y: "SalePrice", wantErr: []string{"given twice"}},
		{name: "no features", content: good, y: "SalePrice", wantErr: []string{"no feature columns"}},
		{name: "bad policy", content: good, x: []string{"Id"}, y: "SalePrice", na: NAPolicy(7), wantErr: []string{"NA policy NAPolicy(7)"}},
		{name: "fill is for tables", content: good, x: []string{"Id"}, y: "SalePrice", na: NAFill, wantErr: []string{"fill is for tables"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "data.csv", []byte(tc.content))
			set, rep, err := LoadCSV(path, tc.x, tc.y, tc.na)
			if tc.wantErr != nil {
				require.Error(t, err)
				assert.Nil(t, set)
				assert.Contains(t, err.Error(), path)
				for _, w := range tc.wantErr {
					assert.Contains(t, err.Error(), w)
				}
				return
			}
			require.NoError(t, err)
			require.NoError(t, set.Validate())
			assert.Equal(t, tc.features, set.Features)
			assert.Equal(t, tc.labels, set.Labels)
			assert.Equal(t, len(tc.labels), set.Rows)
			assert.Equal(t, len(tc.x), set.Cols)
			assert.Equal(t, tc.dropped, set.Dropped)
			assert.Equal(t, tc.dropped, rep.Dropped)
			assert.Len(t, rep.DroppedLines, tc.dropped)
			assert.Equal(t, set.Rows, rep.Rows)
			assert.Equal(t, 0, set.Classes)
			assert.Equal(t, "data.csv", set.Name)
			assert.Equal(t, tc.x, set.FeatureNames)
			assert.Equal(t, []string{tc.y}, set.TargetNames)
		})
	}
}

func TestLoadCSVDroppedLines(t *testing.T) {
	path := writeFile(t, t.TempDir(), "d.csv", []byte("a,b\n1,2\nNA,3\n4,5\n6,NA\n"))
	_, rep, err := LoadCSV(path, []string{"a"}, "b", NADrop)
	require.NoError(t, err)
	assert.Equal(t, []int{3, 5}, rep.DroppedLines)
}

func TestLoadCSVMissingFile(t *testing.T) {
	_, _, err := LoadCSV(filepath.Join(t.TempDir(), "none.csv"), []string{"a"}, "b", NAError)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestParseNAPolicy(t *testing.T) {
	for in, want := range map[string]NAPolicy{"error": NAError, "drop": NADrop, "DROP": NADrop, "": NAError, "fill": NAFill} {
		got, err := ParseNAPolicy(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.Contains(t, []string{"error", "drop", "fill"}, got.String())
	}
	_, err := ParseNAPolicy("skip")
	require.ErrorContains(t, err, `"skip"`)
}

// TestHeaderShared: LoadCSV and Read read the header alike (readHeader:
// names trimmed, a byte-order mark removed even before spaces) and find
// columns alike (findColumn), each with its own messages.
func TestHeaderShared(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, content    string
		csvErr, tableErr string // "" for none
	}{
		{"bom and spaces", "\ufeff a , b\n1,2\n", "", ""},
		{"empty", "", "empty file (want a header row of column names)", "empty file (want a header row of column names)"},
		{"twice", "a,b,a\n1,2,3\n", `header: column "a" appears twice (columns 1 and 3)`, `line 1: column "a" appears twice in the header (columns 1 and 3)`},
		{"missing", "a,c\n1,2\n", `header: no column "b"; the columns are: a, c`, `line 1: no column "b"; the columns are: a, c`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, dir, c.name+".csv", []byte(c.content))
			set, _, err := LoadCSV(path, []string{"a"}, "b", NAError)
			if c.csvErr != "" {
				assert.ErrorContains(t, err, c.csvErr)
			} else if assert.NoError(t, err) {
				assert.Equal(t, []float64{1}, set.Features)
				assert.Equal(t, []float64{2}, set.Labels)
			}
			tb, err := Read(path)
			if err == nil {
				_, err = tb.column("b")
				_, err2 := tb.column("a")
				err = errors.Join(err, err2)
			}
			if c.tableErr != "" {
				assert.ErrorContains(t, err, c.tableErr)
			} else if assert.NoError(t, err) {
				assert.Equal(t, []string{"a", "b"}, tb.Header)
			}
		})
	}
	assert.Equal(t, [][2]int{{-1, -1}, {0, -1}, {1, 3}}, func() (out [][2]int) {
		for _, n := range []string{"z", "x", "y"} {
			i, j := findColumn([]string{"x", "y", "w", "y", "y"}, n)
			out = append(out, [2]int{i, j})
		}
		return out
	}())
}
