package table

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gputrain/gputrain/data"
)

// FuzzCSV feeds arbitrary text to the CSV reader under both NA policies.
func FuzzCSV(f *testing.F) {
	f.Add("a,b\n1,2\n3,4\n", false)
	f.Add("a,b\n1,NA\n3,4\n", true)
	f.Add("a,b\n1,2\n3\n", false)
	f.Add("a,\"b\"\r\n\"1\",2e3\r\n", false)
	f.Add("a,b\n1,\"2\n", true)
	f.Add("\ufeffb,a,c\n1,2,x\n,,\n", true)
	f.Add("", false)
	f.Add("a,b\n", true)
	f.Add("a,a,b\n1,2,3\n", false)
	f.Fuzz(func(t *testing.T, text string, drop bool) {
		na := NAError
		if drop {
			na = NADrop
		}
		set, rep, err := readCSV("f.csv", bytes.NewReader([]byte(text)), []string{"a"}, "b", na)
		if err != nil {
			if set != nil {
				t.Fatal("set returned with an error")
			}
			return
		}
		if set.Rows <= 0 || set.Cols != 1 || len(set.Features) != set.Rows || len(set.Labels) != set.Rows || rep.Rows != set.Rows {
			t.Fatalf("inconsistent set: rows %d cols %d features %d labels %d report %+v", set.Rows, set.Cols, len(set.Features), len(set.Labels), rep)
		}
		if !drop && rep.Dropped != 0 {
			t.Fatal("dropped rows under NAError")
		}
		if err := set.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzTable feeds arbitrary text to the table reader and Fit (target
// "y", every policy and task, with and without validation rows), and
// encodes the file again with what was fitted: nothing may panic, and what
// is accepted must be consistent.
func FuzzTable(f *testing.F) {
	f.Add("a,b,y\n1,x,1\n2,y,2\n3,x,1\n4,NA,2\n", uint8(0))
	f.Add("y,a\ncat,1\ndog,2\ncat,\ndog,4\n", uint8(5))
	f.Add("a,,y\n1,,1e999\n2,,3\n", uint8(7))
	f.Add("\ufeffy,a,a\n1,2,3\n", uint8(1))
	f.Add("a,y\n\"1\n2\",3\n4,5\n6,7\n", uint8(2))
	f.Add("y\n1\n2\n", uint8(3))
	f.Add("a,y\n1,2\n3\n", uint8(4))
	f.Add("", uint8(0))
	f.Add("a,b,y\n1,x,1\n2,y,2\n3,x,1\n4,NA,2\n5,z,1\n6,x,2\n", uint8(9+1))
	f.Fuzz(func(t *testing.T, text string, mode uint8) {
		tb, err := readTable(context.Background(), "f.csv", strings.NewReader(text))
		if err != nil {
			if tb != nil {
				t.Fatal("table returned with an error")
			}
			return
		}
		opt := Options{Target: "y", NA: NAPolicy(mode % 3), Task: Task(mode / 3 % 3), MaxCategories: 8, TestFraction: 0.3, Seed: uint64(mode)}
		if mode/9%2 == 1 {
			opt.ValFraction, opt.ValSeed = 0.25, uint64(mode)
		}
		enc, sp, rep, err := Fit(tb, nil, opt)
		if err != nil {
			if enc != nil || sp != nil {
				t.Fatal("results returned with an error")
			}
			return
		}
		if err := enc.Validate(); err != nil {
			t.Fatalf("fitted an invalid encoder: %v", err)
		}
		for _, s := range []*data.Set{sp.Train, sp.Test} {
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			if s.Rows < 1 || s.Cols != enc.Width() {
				t.Fatalf("%s: %d rows of %d features, encoder width %d", s.Name, s.Rows, s.Cols, enc.Width())
			}
		}
		if opt.ValFraction > 0 {
			// Fit drew the validation rows: training can too.
			if _, _, err := sp.Train.HoldOut(opt.ValFraction, opt.ValSeed); err != nil {
				t.Fatalf("Fit left out validation rows that HoldOut cannot draw: %v", err)
			}
		}
		if rep.Train.Rows+rep.Test.Rows != rep.File.Rows {
			t.Fatalf("split %d+%d of %d rows", rep.Train.Rows, rep.Test.Rows, rep.File.Rows)
		}
		s, _, err := enc.Encode(tb, true)
		if err != nil {
			t.Fatalf("the fitted file does not encode again: %v", err)
		}
		if s.Rows != rep.File.Rows {
			t.Fatalf("encoding again gave %d rows, fitting kept %d", s.Rows, rep.File.Rows)
		}
	})
}
