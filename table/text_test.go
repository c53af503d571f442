package table

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLatin1Table: cells and names that are not UTF-8 are read as
// Windows-1252 (Latin-1), the same way every time, so a model fitted on
// the file encodes the file again; UTF-8 cells are untouched.
func TestLatin1Table(t *testing.T) {
	content := "r\xe9gion,x,classe\n" +
		"Bourgogne-Franche-Comt\xe9,1,caf\xe9\n" +
		"\xcele-de-France,2,th\xe9\n" +
		"Bretagne,3,caf\xe9\n" +
		"Corse,4,th\xe9\n" +
		"Occitanie,5,\x80uro\n" +
		"Provence,6,\x80uro\n"
	tb := table(t, "latin1.csv", content)
	assert.Equal(t, []string{"région", "x", "classe"}, tb.Header)
	assert.Equal(t, "Île-de-France", tb.Cell(1, 0))
	assert.Equal(t, "€uro", tb.Cell(4, 2))
	assert.Equal(t, "Bretagne", tb.Cell(2, 0))
	assert.Equal(t, 8, tb.NotUTF8)
	assert.Equal(t, 2, tb.NotUTF8Line)

	enc, _, _, err := Fit(tb, tb, Options{Target: "classe", Features: []string{"x", "région"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"café", "thé", "€uro"}, enc.Classes)
	again := table(t, "latin1.csv", content)
	s, _, err := enc.Encode(again, true)
	require.NoError(t, err, "the model's table encodes its own training file")
	assert.Equal(t, 6, s.Rows)

	utf := table(t, "utf8.csv", "région,y\ncafé,1\nthé,2\n")
	assert.Equal(t, "café", utf.Cell(0, 0))
	assert.Zero(t, utf.NotUTF8)
}

// TestTextErrors: a lone dash among numbers and an empty target are
// direct errors; long column lists are cut with a count; names with
// control characters are quoted.
func TestTextErrors(t *testing.T) {
	wide := make([]string, 10000)
	for i := range wide {
		wide[i] = fmt.Sprintf("c%d", i)
	}
	tests := []struct {
		name, content string
		opt           Options
		want          []string
		notWant       string
	}{
		{"lone dash in numbers", "a,b,y\n1,x,1\n-,y,0\n3,x,1\n4,y,0\n", Options{Target: "y"},
			[]string{`line 3, column "a": "-" in a column of numbers: write a missing value as an empty cell or NA`}, ""},
		{"em dash in numbers", "a,b,y\n1,x,1\n—,y,0\n3,x,1\n", Options{Target: "y"}, []string{`"—" in a column of numbers`}, ""},
		{"empty target", "a,y\n1,\n2,NA\n3,\n", Options{Target: "y"},
			[]string{`the target column "y" has no values (every cell is missing): choose another --target`}, "--drop"},
		{"many columns", strings.Join(wide, ",") + ",y\n" + strings.Repeat("1,", 10000) + "1\n", Options{Target: "z"},
			[]string{`no column "z"; the columns are: c0, c1,`, "c19, … and 9,981 more"}, "c20,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := table(t, "t.csv", tt.content)
			tt.opt.TestFraction = 0.5
			_, _, _, err := Fit(tb, tb, tt.opt)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			if tt.notWant != "" {
				assert.NotContains(t, err.Error(), tt.notWant)
			}
			assert.Less(t, len(err.Error()), 1000)
		})
	}

	// A dash among text is a category, as before.
	tb := table(t, "t.csv", "a,b,y\nx,1,1\n-,2,0\ny,3,1\n-,4,0\n")
	enc, _, _, err := Fit(tb, tb, Options{Target: "y"})
	require.NoError(t, err)
	assert.Equal(t, []string{"-", "x", "y"}, enc.Columns[0].Categories)
}

func TestListNamesAndPrintable(t *testing.T) {
	assert.Equal(t, "a, b", listNames([]string{"a", "b"}))
	assert.Equal(t, `"\x1b[31mred", ok`, listNames([]string{"\x1b[31mred", "ok"}))
	assert.Equal(t, "1,234,567", thousands(1234567))
	assert.Equal(t, "999", thousands(999))
	assert.Equal(t, "1,000", thousands(1000))
}
