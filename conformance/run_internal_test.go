package conformance

import (
	"context"
	"strings"
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func key(r Result) string { return r.Op + "/" + r.Case }

// TestRunSizes runs the suite through Run on the reference at each size:
// every check appears, every case compares something and passes with zero
// error, Quick is a proper subset of Standard, and only Full has the large
// product.
func TestRunSizes(t *testing.T) {
	cases := map[Size]map[string]bool{}
	for _, size := range []Size{Quick, Standard, Full} {
		var progressed int
		res := Run(cpuref.New(), Options{Size: size, Progress: func(Result) { progressed++ }})
		require.NotEmpty(t, res, size)
		assert.Equal(t, len(res), progressed, "Progress sees every result")
		seen := map[string]bool{}
		cases[size] = map[string]bool{}
		for _, r := range res {
			seen[r.Op] = true
			cases[size][key(r)] = true
			assert.True(t, r.Pass, "%s %s: %v", size, key(r), r.Failures)
			assert.Positive(t, r.Compared, "%s %s compares nothing", size, key(r))
			assert.Zero(t, r.MaxRatio, "the reference against itself: %s", key(r))
		}
		for _, name := range Checks() {
			assert.True(t, seen[name], "%s run lacks check %s", size, name)
		}
	}
	for k := range cases[Quick] {
		assert.True(t, cases[Standard][k], "quick case %s is not a standard one", k)
	}
	assert.Less(t, len(cases[Quick]), len(cases[Standard]), "Quick leaves cases out")
	large := "MatMul/1024x784x512/transA=false/transB=false"
	assert.False(t, cases[Standard][large])
	assert.True(t, cases[Full][large])
	assert.Len(t, cases[Full], len(cases[Standard])+4, "Full adds the large product's four transposes")
	for _, k := range []string{
		"MatMul/37x129x65/transA=true/transB=true", "MatMul/64x64x64/transA=false/transB=true",
		"MatMulActivationGrad/tanh/64x64x64/transW=true", "LossGrad/mse/129x3", "Optimizers/adam",
		"TrainingRun/",
	} {
		assert.True(t, cases[Quick][k], "Quick lacks %s", k)
	}
}

// TestRunReportsFailures runs the suite on backends with a wrong matmul
// and a panicking column sum: the failing cases say which element, with
// got, want and bound, the panic fails its case only, and the run goes on
// to the checks after them.
func TestRunReportsFailures(t *testing.T) {
	b := hooked{cpuref.New(), func(op string, out ...backend.Tensor) {
		switch op {
		case "MatMul":
			apply(func(x float64) float64 { return x * (1 + 1e-3) }, out...)
		case "ColumnSum":
			panic("column sum exploded")
		}
	}}
	res := Run(b, Options{Size: Quick})
	byOp := map[string][]Result{}
	for _, r := range res {
		byOp[r.Op] = append(byOp[r.Op], r)
	}
	found := false
	for _, r := range byOp["MatMul"] {
		if r.Case == "37x129x65/transA=false/transB=false" {
			found = true
			assert.False(t, r.Pass)
			assert.Greater(t, r.MaxRatio, 1.0)
			require.NotEmpty(t, r.Failures)
			assert.Regexp(t, `^matmul: element \d+ = .*, want .*exceeds bound`, r.Failures[0])
		}
	}
	assert.True(t, found, "no MatMul 37x129x65 case")
	require.NotEmpty(t, byOp["ColumnSum"])
	for _, r := range byOp["ColumnSum"] {
		assert.False(t, r.Pass)
		assert.True(t, strings.HasPrefix(r.Failures[0], "panic: column sum exploded"), r.Failures[0])
	}
	for _, op := range []string{"Fill", "Gather", "Optimizers"} {
		require.NotEmpty(t, byOp[op], op)
		for _, r := range byOp[op] {
			assert.True(t, r.Pass, "%s %v", key(r), r.Failures)
		}
	}
}

// TestRunStopsWithItsContext: once the context is done no case starts, and
// Run returns the cases that ran.
func TestRunStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	res := Run(cpuref.New(), Options{Size: Quick, Context: ctx, Progress: func(Result) {
		n++
		if n == 3 {
			cancel()
		}
	}})
	assert.Len(t, res, 3)
	for _, r := range res {
		assert.Equal(t, "MatMul", r.Op)
	}
}
