package table

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/internal/memlimit"
)

// zeros is an endless stream of NUL bytes, as /dev/zero gives.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestRowLimit: a row longer than the limit is an error naming the file
// and the line it starts on, after reading no more than the limit; rows
// within it, and quoted cells spanning lines, read as before.
func TestRowLimit(t *testing.T) {
	tests := []struct {
		name string
		src  io.Reader
		want string // "" for no error
		line int
	}{
		{"no line end at all", zeros{}, "line 1: a row longer than 64 bytes", 1},
		{"long second row", strings.NewReader("a,b\n1,2\n" + strings.Repeat("x", 100) + ",1\n"), "line 3: a row longer than 64 bytes", 3},
		{"endless quoted cell", io.MultiReader(strings.NewReader("a,b\n1,2\n3,\""), strings.NewReader(strings.Repeat("\n", 100))), "line 3: a row longer", 3},
		{"rows within the limit", strings.NewReader("a,b\n" + strings.Repeat("12345678,1\n", 50)), "", 0},
		{"quoted cells over lines within the limit", strings.NewReader("a,b\n\"x\ny\",\"\"\"q\"\"\"\n1,2\n"), "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newCSVReader("in.csv", tt.src, 64)
			var err error
			for err == nil {
				_, err = r.Read()
			}
			if tt.want == "" {
				assert.ErrorIs(t, err, io.EOF)
				return
			}
			require.ErrorIs(t, err, ErrRowTooLong)
			var re *RowTooLongError
			require.True(t, errors.As(err, &re))
			assert.Equal(t, tt.line, re.Line)
			assert.Contains(t, err.Error(), "data: in.csv: "+tt.want)
		})
	}
}

// TestReadDevZero: Read and LoadCSV of a file with no line end stop at
// MaxRowBytes with an error, whatever the file's length.
func TestReadDevZero(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, err := Read("/dev/zero")
	require.ErrorIs(t, err, ErrRowTooLong)
	assert.Contains(t, err.Error(), "data: /dev/zero: line 1: a row longer than 16777216 bytes (16 MiB)")
	_, _, err = LoadCSV("/dev/zero", []string{"x"}, "y", NAError)
	require.ErrorIs(t, err, ErrRowTooLong)
}

// TestEncodeMemoryBudget: a one-hot column with as many categories as rows
// (an ID) and a cap raised to take it would need rows² inputs; past the
// memory budget it is refused, naming the column, before the inputs are
// allocated.
func TestEncodeMemoryBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,x,y\n")
	const n = 3000 // 3000² inputs: 72 MB
	for i := range n {
		fmt.Fprintf(&b, "id%d,%d,%d\n", i, i%7, i%2)
	}
	tb := table(t, "ids.csv", b.String())
	opt := Options{Target: "y", MaxCategories: 1_000_000, TestFraction: 0.2, Seed: 1}

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	old := debug.SetMemoryLimit(int64(ms.Sys-ms.HeapReleased) + 20<<20) // about 20 MB to spare
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	_, _, _, err := Fit(tb, nil, opt)
	debug.SetMemoryLimit(old)
	require.Error(t, err)
	assert.ErrorIs(t, err, memlimit.ErrTooLarge)
	msg := err.Error()
	assert.Contains(t, msg, "ids.csv: encoding 2400 rows into 2401 inputs each needs about 46.1 MB of memory, more than the")
	assert.Contains(t, msg, `the widest column, "id", has 2400 categories: leave it out (--drop id) or lower --max-categories`)

	_, _, _, err = Fit(tb, nil, opt) // with the memory there is, it fits
	require.NoError(t, err)
}
