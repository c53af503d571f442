package nn_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/gpu/gputest"
	"github.com/gputrain/gputrain/nn"
)

// arrayCase is a TrainArray call and the solo Train calls its members
// must equal.
type arrayCase struct {
	name    string
	spec    nn.Spec
	set     *nn.Set
	cfg     nn.Config
	seeds   []uint64
	members []nn.MemberConfig
}

// folds returns k-fold members over n rows: member i trains on the rows
// outside fold i and validates on fold i (folds of n/k rows each).
func folds(n, k int) []nn.MemberConfig {
	size := n / k
	ms := make([]nn.MemberConfig, k)
	for i := range ms {
		for r := range k * size {
			if r/size == i {
				ms[i].ValRows = append(ms[i].ValRows, r)
			} else {
				ms[i].Rows = append(ms[i].Rows, r)
			}
		}
	}
	return ms
}

func arrayCases() []arrayCase {
	fold := folds(150, 3)
	for i := range fold {
		fold[i].LR = []float64{0.02, 0.05, 0.1}[i]
		fold[i].ShuffleSeed = uint64(10 + i)
	}
	return []arrayCase{
		{"one member is Train", blobSpec, blobSet(90, 1),
			nn.Config{Epochs: 3, Batch: 16, LR: 0.05, Optimizer: nn.Adam, Seed: 7}, []uint64{42}, []nn.MemberConfig{{}}},
		{"seeds and learning rates, adam", xorSpec, xorSet(100, 1),
			nn.Config{Epochs: 4, Batch: 24, LR: 0.05, Optimizer: nn.Adam, Seed: 7}, []uint64{1, 2, 3, 4, 5},
			[]nn.MemberConfig{{}, {LR: 0.01}, {ShuffleSeed: 9}, {LR: 0.2, Beta1: 0.8}, {Eps: 1e-6, ShuffleSeed: 3}}},
		{"per-member rows, momentum", blobSpec, blobSet(90, 2),
			nn.Config{Epochs: 3, Batch: 20, LR: 0.05, Optimizer: nn.Momentum, Seed: 7}, []uint64{4, 4, 6},
			[]nn.MemberConfig{{Rows: seq(0, 60)}, {Rows: seq(30, 90), Momentum: 0.5}, {Rows: seq(15, 75), LR: 0.1}}},
		{"k-fold with early stopping, sgd", blobSpec, blobSet(150, 3),
			nn.Config{Epochs: 8, Batch: 32, LR: 0.05, Optimizer: nn.SGD, Seed: 7, Patience: 2}, []uint64{8, 8, 8}, fold},
		{"weight decay per member, adamw", blobSpec, blobSet(90, 3),
			nn.Config{Epochs: 3, Batch: 16, LR: 0.05, Optimizer: nn.AdamW, Seed: 7, WeightDecay: 0.05}, []uint64{1, 1, 1},
			[]nn.MemberConfig{{}, {WeightDecay: 0.5}, {WeightDecay: -1}}},
		{"weight decay on some members, sgd", xorSpec, xorSet(60, 3),
			nn.Config{Epochs: 3, Batch: 16, LR: 0.2, Seed: 7}, []uint64{1, 2}, []nn.MemberConfig{{}, {WeightDecay: 0.1}}},
		{"cosine schedule with warm-up, per-member rates", blobSpec, blobSet(90, 4),
			nn.Config{Epochs: 5, Batch: 16, LR: 0.05, Optimizer: nn.Momentum, Seed: 7,
				Schedule: nn.Schedule{Kind: nn.CosineLR, Warmup: 1, MinLR: 0.001}}, []uint64{1, 2}, []nn.MemberConfig{{}, {LR: 0.1}}},
		{"plateau schedule per member, k-fold", blobSpec, blobSet(150, 3),
			nn.Config{Epochs: 8, Batch: 32, LR: 0.2, Optimizer: nn.SGD, Seed: 7,
				Schedule: nn.Schedule{Kind: nn.PlateauLR, PlateauPatience: 1, PlateauFactor: 0.5}}, []uint64{8, 8, 8}, folds(150, 3)},
		{"dropout, consecutive seeds (an ensemble)", blobSpec, blobSet(90, 5),
			nn.Config{Epochs: 3, Batch: 16, LR: 0.05, Optimizer: nn.Adam, Seed: 7, Dropout: 0.3}, []uint64{1, 2, 3},
			[]nn.MemberConfig{{ShuffleSeed: 20}, {ShuffleSeed: 21}, {ShuffleSeed: 22}}},
		{"full batch, shared validation", xorSpec, xorSet(60, 2),
			nn.Config{Epochs: 5, LR: 0.5, Seed: 7, ValFraction: 0.25, ValSeed: 3}, []uint64{1, 2}, []nn.MemberConfig{{}, {LR: 0.3}}},
	}
}

// seq is lo, lo+1, …, hi−1.
func seq(lo, hi int) []int {
	s := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

// solo trains member k of c alone with Train, as TrainArray's contract
// says it trains, and returns its parameters and history.
func solo(t *testing.T, b backend.Backend, c arrayCase, k int) ([]nn.Params, nn.History) {
	t.Helper()
	mc := c.members[k]
	cfg := c.cfg
	if mc.ShuffleSeed != 0 {
		cfg.Seed = mc.ShuffleSeed
	}
	if mc.LR != 0 {
		cfg.LR = mc.LR
	}
	if mc.Momentum != 0 {
		cfg.Momentum = mc.Momentum
	}
	if mc.Beta1 != 0 {
		cfg.Beta1 = mc.Beta1
	}
	if mc.Eps != 0 {
		cfg.Eps = mc.Eps
	}
	switch {
	case mc.WeightDecay < 0:
		cfg.WeightDecay = 0
	case mc.WeightDecay > 0:
		cfg.WeightDecay = mc.WeightDecay
	}
	set := c.set
	if cfg.ValFraction > 0 {
		var err error
		set, cfg.Val, err = set.HoldOut(cfg.ValFraction, cfg.ValSeed)
		require.NoError(t, err)
		cfg.ValFraction = 0
	}
	if mc.ValRows != nil {
		cfg.Val = set.Take(mc.ValRows, set.Name)
	}
	if mc.Rows != nil {
		set = set.Take(mc.Rows, set.Name)
	}
	m := newModel(t, b, c.spec, c.seeds[k])
	h, err := nn.Train(context.Background(), b, m, set, cfg, nn.Hooks{})
	require.NoError(t, err)
	ps, err := m.Params()
	require.NoError(t, err)
	return ps, h
}

func trainArray(t *testing.T, b backend.Backend, c arrayCase) (*nn.Array, []nn.MemberResult) {
	t.Helper()
	arr, err := nn.NewArray(b, c.spec, c.seeds)
	require.NoError(t, err)
	t.Cleanup(arr.Free)
	require.Equal(t, len(c.seeds), arr.Len())
	res, err := nn.TrainArray(context.Background(), arr, c.set, c.cfg, c.members, nn.ArrayHooks{})
	require.NoError(t, err)
	require.Len(t, res, arr.Len())
	return arr, res
}

// TestArrayMemberEqualsSolo: on the CPU reference, member k of an array
// ends with exactly the parameters, and the same epoch losses, as the same
// configuration trained alone by Train: seeds, learning rates, row orders,
// per-member rows, k-fold validation with early stopping, full batch.
func TestArrayMemberEqualsSolo(t *testing.T) {
	for _, c := range arrayCases() {
		t.Run(c.name, func(t *testing.T) {
			b := cpuref.New()
			arr, res := trainArray(t, b, c)
			for k := range c.seeds {
				want, h := solo(t, b, c, k)
				got, err := arr.Params(k)
				require.NoError(t, err)
				assert.Equal(t, want, got, "member %d's parameters", k)
				require.NoError(t, res[k].Err)
				require.Len(t, res[k].History.Epochs, len(h.Epochs), "member %d's epochs", k)
				for e := range h.Epochs {
					assert.Equal(t, h.Epochs[e].Loss, res[k].History.Epochs[e].Loss, "member %d epoch %d loss", k, e+1)
					want, got := h.Epochs[e].ValLoss, res[k].History.Epochs[e].ValLoss
					assert.True(t, want == got || (math.IsNaN(want) && math.IsNaN(got)), "member %d epoch %d validation loss %v, alone %v", k, e+1, got, want)
				}
				assert.Equal(t, h.StoppedEarly, res[k].Stopped, "member %d stopped early", k)
				assert.Equal(t, h.BestEpoch, res[k].History.BestEpoch, "member %d best epoch", k)
				m, err := arr.Model(k)
				require.NoError(t, err)
				mp, err := m.Params()
				require.NoError(t, err)
				assert.Equal(t, want, mp, "Array.Model(%d)", k)
				m.Free()
			}
		})
	}
}

// TestArrayStopsMembersApart: with early stopping some k-fold members stop
// before others, and the stopped ones keep their best weights while the
// rest go on (checked against solo runs in TestArrayMemberEqualsSolo).
func TestArrayStopsMembersApart(t *testing.T) {
	c := arrayCases()[3]
	c.cfg.Epochs, c.cfg.Patience = 40, 2
	for i, lr := range []float64{0.2, 0.003, 0.03} {
		c.members[i].LR = lr
	}
	b := cpuref.New()
	arr, res := trainArray(t, b, c)
	var lens []int
	for k := range res {
		lens = append(lens, len(res[k].History.Epochs))
		want, h := solo(t, b, c, k)
		assert.Equal(t, h.StoppedEarly, res[k].Stopped, "member %d", k)
		assert.Len(t, res[k].History.Epochs, len(h.Epochs), "member %d", k)
		got, err := arr.Params(k)
		require.NoError(t, err)
		assert.Equal(t, want, got, "member %d holds its best weights", k)
	}
	assert.True(t, res[0].Stopped || res[1].Stopped || res[2].Stopped, "some member stops early: %v", lens)
	assert.False(t, lens[0] == lens[1] && lens[1] == lens[2], "members stop apart: epochs %v", lens)
}

// TestArrayDivergedMemberFrozen: a member with a learning rate that blows
// up is reported diverged and frozen; the others train as alone.
func TestArrayDivergedMemberFrozen(t *testing.T) {
	c := arrayCase{"diverging", blobSpec, blobSet(90, 1),
		nn.Config{Epochs: 4, Batch: 16, LR: 0.05, Optimizer: nn.SGD, Seed: 7}, []uint64{1, 2},
		[]nn.MemberConfig{{LR: 1e6}, {}}}
	b := cpuref.New()
	_, res := trainArray(t, b, c)
	var de *nn.DivergedError
	require.True(t, errors.As(res[0].Err, &de), "member 0: %v", res[0].Err)
	assert.NoError(t, res[1].Err)
	assert.Len(t, res[1].History.Epochs, 4)
}

// TestArrayErrors: configurations TrainArray refuses.
func TestArrayErrors(t *testing.T) {
	b := cpuref.New()
	arr, err := nn.NewArray(b, blobSpec, []uint64{1, 2})
	require.NoError(t, err)
	defer arr.Free()
	set := blobSet(30, 1)
	cfg := nn.Config{Epochs: 1, LR: 0.1}
	tests := []struct {
		name    string
		members []nn.MemberConfig
		want    string
	}{
		{"count", []nn.MemberConfig{{}}, "1 member configurations for an array of 2 models"},
		{"rows differ", []nn.MemberConfig{{Rows: seq(0, 10)}, {Rows: seq(0, 11)}}, "every member the same counts"},
		{"row outside", []nn.MemberConfig{{Rows: []int{30}}, {Rows: []int{0}}}, "lists row 30 of a training set of 30"},
		{"validation for some", []nn.MemberConfig{{ValRows: []int{1}}, {}}, "member 1 lists validation rows and member 0 does not"},
	}
	for _, tt := range tests {
		_, err := nn.TrainArray(context.Background(), arr, set, cfg, tt.members, nn.ArrayHooks{})
		assert.ErrorContains(t, err, tt.want, tt.name)
	}
	_, err = nn.NewArray(b, blobSpec, nil)
	assert.ErrorContains(t, err, "no models")
}

// TestArrayGPUMatchesSolo: on the GPU (float32), member k of an array
// tracks the same configuration trained alone on the CPU reference within
// the whole-run tolerance of TestTrainGPUMatchesReference (epoch losses
// within 1e-3 + 1e-2·loss, predictions within 1e-2). Small: lavapipe runs
// ~40 µs a dispatch.
func TestArrayGPUMatchesSolo(t *testing.T) {
	g := gputest.Open(t)
	for _, c := range []arrayCase{arrayCases()[1], arrayCases()[3]} {
		t.Run(c.name, func(t *testing.T) {
			arr, res := trainArray(t, g, c)
			c0 := cpuref.New()
			for k := range c.seeds {
				_, h := solo(t, c0, c, k)
				require.NoError(t, res[k].Err)
				require.Len(t, res[k].History.Epochs, len(h.Epochs), "member %d", k)
				for e := range h.Epochs {
					want := h.Epochs[e].Loss
					assert.InDelta(t, want, res[k].History.Epochs[e].Loss, 1e-3+1e-2*want, "member %d epoch %d loss", k, e+1)
				}
				mg, err := arr.Model(k)
				require.NoError(t, err)
				pg, err := mg.Predict(c.set, 16)
				require.NoError(t, err)
				mg.Free()
				wantP, _ := solo(t, c0, c, k)
				mc := newModel(t, c0, c.spec, c.seeds[k])
				require.NoError(t, mc.SetParams(wantP))
				pc, err := mc.Predict(c.set, 0)
				require.NoError(t, err)
				for i := range pc.Outputs {
					assert.InDeltaSlice(t, pc.Outputs[i], pg.Outputs[i], 1e-2, "member %d row %d", k, i)
				}
			}
		})
	}
}
