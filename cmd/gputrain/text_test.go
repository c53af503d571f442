package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// textTable writes a table of n rows whose target's classes are given
// (cycled) and whose feature separates them.
func textTable(t *testing.T, dir, name string, classes []string, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("x,r\xe9gion,y\n")
	for i := range n {
		k := i % len(classes)
		fmt.Fprintf(&b, "%d,%s,%s\n", k*10+i%3, []string{"Bretagne", "\xcele-de-France"}[i%2], classes[k])
	}
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	return p
}

// TestLatin1TableTrainsAndEvaluates: a Latin-1 table trains, and eval on
// the very training file works (its checkpoint used to store replacement
// characters, and eval then failed); a note says how the file was read.
func TestLatin1TableTrainsAndEvaluates(t *testing.T) {
	dir := t.TempDir()
	p := textTable(t, dir, "latin1.csv", []string{"caf\xe9", "th\xe9"}, 60)
	model := filepath.Join(dir, "m.safetensors")
	code, _, stderr := gputrain(t, "--device", "cpu", "--csv", p, "--target", "y", "--epochs", "2", "--save", model)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "classes: café, thé")
	assert.Contains(t, stderr, "cells are not UTF-8 (the first on line 2): read as Windows-1252 (Latin-1)")
	code, stdout, stderr := gputrain(t, "eval", "--device", "cpu", "--model", model, "--csv", p)
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "test: loss")
}

// TestNamesSanitised: class names and cells holding terminal escape codes
// are printed escaped, in notes and errors alike.
func TestNamesSanitised(t *testing.T) {
	dir := t.TempDir()
	p := textTable(t, dir, "esc.csv", []string{"\x1b[31mred", "\x1b]0;pwned\x07"}, 40)
	code, _, stderr := gputrain(t, "--device", "cpu", "--csv", p, "--target", "y", "--epochs", "1")
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, stderr, "\x1b")
	assert.NotContains(t, stderr, "\x07")
	assert.Contains(t, stderr, `classes: \x1b[31mred, \x1b]0;pwned\x07`)

	code, _, stderr = gputrain(t, "--device", "cpu", "--csv", p, "--target", "\x1b[2Jy")
	assert.Equal(t, 1, code, stderr)
	assert.NotContains(t, stderr, "\x1b")

	for in, want := range map[string]string{"plain é": "plain é", "a\x1bb": `a\x1bb`, "c1\u009bx": `c1\u009bx`, "tab\tnl\n": "tab\tnl\n", "del\x7f": `del\x7f`} {
		assert.Equal(t, want, sanitize(in))
	}
}

// TestTableTextErrors: a lone dash in a number column and an empty target
// are direct errors (exit 1); eval on a missing cell does not suggest
// --na, which eval does not take.
func TestTableTextErrors(t *testing.T) {
	dir := t.TempDir()
	dash := filepath.Join(dir, "dash.csv")
	require.NoError(t, os.WriteFile(dash, []byte("a,b,y\n1,x,p\n-,y,q\n3,x,p\n4,y,q\n"), 0o644))
	empty := filepath.Join(dir, "empty.csv")
	require.NoError(t, os.WriteFile(empty, []byte("a,y\n1,\n2,\n3,NA\n"), 0o644))
	tests := []struct {
		name    string
		args    []string
		want    string
		notWant string
	}{
		{"dash", []string{"--device", "cpu", "--csv", dash, "--target", "y"}, `line 3, column "a": "-" in a column of numbers`, ""},
		{"empty target", []string{"--device", "cpu", "--csv", empty, "--target", "y"}, `the target column "y" has no values (every cell is missing): choose another --target`, "--drop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := gputrain(t, tt.args...)
			assert.Equal(t, 1, code, stderr)
			assert.Contains(t, stderr, tt.want)
			if tt.notWant != "" {
				assert.NotContains(t, stderr, tt.notWant)
			}
		})
	}

	p := textTable(t, dir, "t.csv", []string{"p", "q"}, 40)
	model := filepath.Join(dir, "m.safetensors")
	code, _, stderr := gputrain(t, "--device", "cpu", "--csv", p, "--target", "y", "--epochs", "1", "--save", model)
	require.Equal(t, 0, code, stderr)
	hole := filepath.Join(dir, "hole.csv")
	require.NoError(t, os.WriteFile(hole, []byte("x,r\xe9gion,y\n1,,p\n"), 0o644))
	code, _, stderr = gputrain(t, "eval", "--device", "cpu", "--model", model, "--csv", hole)
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "is missing (NA), and the model's NA policy (train's --na) is error")
	assert.NotContains(t, stderr, "--na drop")
}
