package nn_test

import (
	"errors"
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/nn"
)

func TestParamCount(t *testing.T) {
	tests := []struct {
		name string
		spec nn.Spec
		want int
		ok   bool
	}{
		{"linear", nn.Spec{Inputs: 2, Outputs: 1}, 3, true},
		{"xor", nn.Spec{Inputs: 2, Hidden: []int{8}, Outputs: 1}, 2*8 + 8 + 8 + 1, true},
		{"digits", nn.Spec{Inputs: 64, Hidden: []int{128, 64}, Outputs: 10}, 65*128 + 129*64 + 65*10, true},
		{"huge", nn.Spec{Inputs: 64, Hidden: []int{30000, 30000}, Outputs: 10}, 65*30000 + 30001*30000 + 30001*10, true},
		{"overflow", nn.Spec{Inputs: math.MaxInt / 2, Hidden: []int{math.MaxInt / 2}, Outputs: 4}, 0, false},
		{"negative", nn.Spec{Inputs: -1, Outputs: 1}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := tt.spec.ParamCount()
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, n)
		})
	}
}

// withMemoryLimit sets the Go memory limit, part of the budget, for the
// test.
func withMemoryLimit(t *testing.T, n int64) {
	old := debug.SetMemoryLimit(n)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
}

// TestModelTooLargeIsRefusedBeforeAllocation: a model whose parameters do
// not fit the memory budget is an error naming it, the bytes and the
// limit, not an allocation that kills the process.
func TestModelTooLargeIsRefusedBeforeAllocation(t *testing.T) {
	withMemoryLimit(t, 2<<30)
	huge := nn.Spec{Inputs: 64, Hidden: []int{30000, 30000}, Outputs: 10, Activation: backend.Sigmoid, Head: nn.SoftmaxHead}
	tests := []struct {
		name  string
		spec  nn.Spec
		train bool
		want  []string
	}{
		{"hold", huge, false, []string{"holding model 64-30000-30000-10 sigmoid softmax (902280010 parameters) needs about 14.5 GB of memory", "GOMEMLIMIT"}},
		{"train", huge, true, []string{"training model 64-30000-30000-10 sigmoid softmax (902280010 parameters) needs about 43.4 GB"}},
		{"overflow", nn.Spec{Inputs: math.MaxInt / 2, Hidden: []int{math.MaxInt / 2}, Outputs: 2, Head: nn.SoftmaxHead}, true,
			[]string{"more parameters than an int counts", "more than 18 EB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.CheckMemory(tt.train, 32)
			require.Error(t, err)
			assert.True(t, errors.Is(err, nn.ErrTooLarge))
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	require.NoError(t, nn.Spec{Inputs: 64, Hidden: []int{128}, Outputs: 10, Head: nn.SoftmaxHead}.CheckMemory(true, 32))

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err := nn.NewModel(cpuref.New(), huge, 1)
	runtime.ReadMemStats(&after)
	require.Error(t, err)
	assert.Nil(t, m)
	assert.True(t, errors.Is(err, nn.ErrTooLarge), err)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20), "refused before allocating")
}
