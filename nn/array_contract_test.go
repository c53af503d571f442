package nn_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/nn"
)

// The contract's invariant (spec/array-api.md): member k of an array ends
// with the parameters of the same configuration trained alone.
func TestTrainArrayMemberEqualsSolo(t *testing.T) {
	b := cpuref.New()
	defer b.Close()
	set := &nn.Set{Name: "xor", Rows: 24, Cols: 2, Outputs: 1, Classes: 2}
	for i := range 24 {
		x, y := float64(i%2), float64(i/2%2)
		set.Features = append(set.Features, x+0.01*float64(i), y)
		set.Labels = append(set.Labels, float64(int(x)^int(y)))
	}
	spec := nn.Spec{Inputs: 2, Hidden: []int{5}, Outputs: 1, Activation: backend.Tanh, Head: nn.BinaryHead}
	seeds := []uint64{3, 4, 5}
	members := []nn.MemberConfig{
		{ShuffleSeed: 7, LR: 0.05, Rows: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, ValRows: []int{16, 17, 18, 19, 20, 21, 22, 23}},
		{ShuffleSeed: 8, Rows: []int{8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}, ValRows: []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{LR: 0.2, Rows: []int{0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23}, ValRows: []int{8, 9, 10, 11, 12, 13, 14, 15}},
	}
	cfg := nn.Config{Epochs: 4, Batch: 4, LR: 0.01, Optimizer: nn.Adam, Seed: 11, Patience: 2}
	arr, err := nn.NewArray(b, spec, seeds)
	if err != nil {
		t.Fatal(err)
	}
	defer arr.Free()
	if arr.Len() != 3 || arr.Spec().String() != spec.String() {
		t.Fatalf("array of %d %v", arr.Len(), arr.Spec())
	}
	epochs := make([]int, 3)
	res, err := nn.TrainArray(context.Background(), arr, set, cfg, members, nn.ArrayHooks{Epoch: func(k int, s nn.EpochStats) { epochs[k]++ }})
	if err != nil {
		t.Fatal(err)
	}
	for k, mc := range members {
		solo, err := nn.NewModel(b, spec, seeds[k])
		if err != nil {
			t.Fatal(err)
		}
		c := cfg
		if mc.ShuffleSeed != 0 {
			c.Seed = mc.ShuffleSeed
		}
		if mc.LR != 0 {
			c.LR = mc.LR
		}
		c.Val = set.Take(mc.ValRows, "val")
		hist, err := nn.Train(context.Background(), b, solo, set.Take(mc.Rows, set.Name), c, nn.Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := solo.Params()
		got, err := arr.Params(k)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("member %d's parameters differ from its solo run", k)
		}
		if res[k].History.BestEpoch != hist.BestEpoch || len(res[k].History.Epochs) != len(hist.Epochs) || epochs[k] != len(hist.Epochs) {
			t.Errorf("member %d: best epoch %d of %d (%d hooks), solo %d of %d", k, res[k].History.BestEpoch, len(res[k].History.Epochs), epochs[k], hist.BestEpoch, len(hist.Epochs))
		}
		m, err := arr.Model(k)
		if err != nil {
			t.Fatal(err)
		}
		if mp, _ := m.Params(); !reflect.DeepEqual(mp, want) || m.Info.Seed != seeds[k] {
			t.Errorf("Model(%d) does not hold member %d", k, k)
		}
		m.Free()
		solo.Free()
	}
}

func TestTrainArrayRefusesUnequalRows(t *testing.T) {
	b := cpuref.New()
	defer b.Close()
	set := &nn.Set{Name: "s", Rows: 4, Cols: 1, Outputs: 1, Classes: 2, Features: []float64{0, 1, 2, 3}, Labels: []float64{0, 1, 0, 1}}
	spec := nn.Spec{Inputs: 1, Hidden: []int{2}, Outputs: 1, Activation: backend.Tanh, Head: nn.BinaryHead}
	arr, err := nn.NewArray(b, spec, []uint64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	defer arr.Free()
	for _, tc := range []struct {
		members []nn.MemberConfig
		wantErr string
	}{
		{[]nn.MemberConfig{{Rows: []int{0, 1}}, {Rows: []int{0, 1, 2}}}, "member 1 lists 3 training and 0 validation rows"},
		{[]nn.MemberConfig{{ValRows: []int{0}}, {}}, "member 1 lists validation rows and member 0 does not"},
		{[]nn.MemberConfig{{Rows: []int{9}}, {Rows: []int{0}}}, "row 9"},
		{[]nn.MemberConfig{{}}, "1 member configurations for an array of 2 models"},
	} {
		_, err := nn.TrainArray(context.Background(), arr, set, nn.Config{Epochs: 1, LR: 0.1}, tc.members, nn.ArrayHooks{})
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("TrainArray error %v, want %q", err, tc.wantErr)
		}
	}
}
