package nn_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/nn"
)

// xorSet is a deterministic binary task that needs a hidden layer: points in
// [-1,1]² labelled 1 when x·y > 0, keeping away from the axes.
func xorSet(n int, seed uint64) *nn.Set {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &nn.Set{Name: "xor", Rows: n, Cols: 2, Classes: 2}
	for len(s.Labels) < n {
		x, y := 2*rng.Float64()-1, 2*rng.Float64()-1
		if math.Abs(x) < 0.1 || math.Abs(y) < 0.1 {
			continue
		}
		s.Features = append(s.Features, x, y)
		l := 0.0
		if x*y > 0 {
			l = 1
		}
		s.Labels = append(s.Labels, l)
	}
	return s
}

// blobSet is a deterministic 3-class task: Gaussian blobs around three
// centres, with features in original units far from zero mean.
func blobSet(n int, seed uint64) *nn.Set {
	rng := rand.New(rand.NewPCG(seed, 2))
	centres := [][2]float64{{10, 0}, {0, 10}, {-10, -10}}
	s := &nn.Set{Name: "blobs", Rows: n, Cols: 2, Classes: 3}
	for i := range n {
		c := i % 3
		s.Features = append(s.Features, centres[c][0]+2*rng.NormFloat64()+50, centres[c][1]+2*rng.NormFloat64())
		s.Labels = append(s.Labels, float64(c))
	}
	return s
}

// pixelSet is a byte-valued binary task: 4 "pixels", bright (class 1) or
// dark (class 0) images with noise.
func pixelSet(n int, seed uint64) *nn.Set {
	rng := rand.New(rand.NewPCG(seed, 3))
	s := &nn.Set{Name: "pixels", Rows: n, Cols: 4, Classes: 2}
	for i := range n {
		c := i % 2
		for range 4 {
			v := 40 + rng.IntN(60)
			if c == 1 {
				v += 120
			}
			s.Pixels = append(s.Pixels, byte(v))
		}
		s.Labels = append(s.Labels, float64(c))
	}
	return s
}

// lineSet is y = 3·x0 - 2·x1 + 5 + small noise, with features in odd units.
func lineSet(n int, seed uint64) *nn.Set {
	rng := rand.New(rand.NewPCG(seed, 4))
	s := &nn.Set{Name: "line", Rows: n, Cols: 2}
	for range n {
		x0, x1 := 100+20*rng.NormFloat64(), 0.01*rng.NormFloat64()
		s.Features = append(s.Features, x0, x1)
		s.Labels = append(s.Labels, 3*x0-200*x1+5+0.01*rng.NormFloat64())
	}
	return s
}

func newModel(t *testing.T, b backend.Backend, spec nn.Spec, seed uint64) *nn.Model {
	t.Helper()
	m, err := nn.NewModel(b, spec, seed)
	require.NoError(t, err)
	t.Cleanup(m.Free)
	return m
}

var (
	xorSpec   = nn.Spec{Inputs: 2, Hidden: []int{8}, Outputs: 1, Activation: backend.Tanh, Head: nn.BinaryHead}
	blobSpec  = nn.Spec{Inputs: 2, Hidden: []int{8, 8}, Outputs: 3, Activation: backend.ReLU, Head: nn.SoftmaxHead}
	pixelSpec = nn.Spec{Inputs: 4, Hidden: []int{4}, Outputs: 1, Activation: backend.Sigmoid, Head: nn.BinaryHead}
	lineSpec  = nn.Spec{Inputs: 2, Outputs: 1, Head: nn.RegressionHead}
)

func TestTrainReachesAccuracy(t *testing.T) {
	tests := []struct {
		name    string
		spec    nn.Spec
		set     *nn.Set
		cfg     nn.Config
		minAcc  float64 // on the training set, by Evaluate
		maxLoss float64
	}{
		{"xor tanh adam", xorSpec, xorSet(200, 1),
			nn.Config{Epochs: 60, Batch: 16, LR: 0.05, Optimizer: nn.Adam, Seed: 7}, 0.95, 0.2},
		{"blobs relu momentum standardised", blobSpec, blobSet(150, 1),
			nn.Config{Epochs: 20, Batch: 32, LR: 0.05, Optimizer: nn.Momentum, Seed: 7, Standardize: true}, 0.97, 0.15},
		{"pixels sigmoid sgd", pixelSpec, pixelSet(100, 1),
			nn.Config{Epochs: 100, Batch: 10, LR: 1, Optimizer: nn.SGD, Seed: 7}, 1, 0.2},
		{"line regression full batch", lineSpec, lineSet(100, 1),
			nn.Config{Epochs: 300, LR: 0.1, Optimizer: nn.SGD, Seed: 7, Standardize: true}, math.NaN(), 1e-4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := cpuref.New()
			m := newModel(t, b, tt.spec, 42)
			hist, err := nn.Train(context.Background(), b, m, tt.set, tt.cfg, nn.Hooks{})
			require.NoError(t, err)
			require.Len(t, hist.Epochs, tt.cfg.Epochs)
			assert.Less(t, hist.Last().Loss, hist.Epochs[0].Loss, "loss should fall")
			mt, err := m.Evaluate(tt.set, 0)
			require.NoError(t, err)
			assert.Less(t, mt.Loss, tt.maxLoss)
			if !math.IsNaN(tt.minAcc) {
				assert.GreaterOrEqual(t, mt.Accuracy, tt.minAcc)
				// Predict agrees with Evaluate's accuracy.
				p, err := m.Predict(tt.set, 7)
				require.NoError(t, err)
				right := 0
				for i, c := range p.Classes {
					if float64(c) == tt.set.Labels[i] {
						right++
					}
				}
				assert.InDelta(t, mt.Accuracy, float64(right)/float64(tt.set.Rows), 1e-12)
			} else {
				assert.True(t, math.IsNaN(mt.Accuracy))
			}
			assert.Equal(t, tt.cfg.Epochs, m.Info.Epoch)
		})
	}
}

func losses(h nn.History) []float64 {
	var l []float64
	for _, e := range h.Epochs {
		l = append(l, e.Loss, e.Accuracy)
	}
	return l
}

func TestTrainDeterministic(t *testing.T) {
	set := xorSet(100, 2)
	run := func(initSeed, shuffleSeed uint64) []float64 {
		b := cpuref.New()
		m := newModel(t, b, xorSpec, initSeed)
		h, err := nn.Train(context.Background(), b, m, set, nn.Config{Epochs: 5, Batch: 10, LR: 0.1, Optimizer: nn.Momentum, Seed: shuffleSeed}, nn.Hooks{})
		require.NoError(t, err)
		return losses(h)
	}
	a := run(1, 1)
	assert.Equal(t, a, run(1, 1), "same seeds give the same history")
	assert.NotEqual(t, a, run(2, 1), "a different init seed changes the run")
	assert.NotEqual(t, a, run(1, 2), "a different shuffle seed changes the run")
}

func TestTrainBatching(t *testing.T) {
	tests := []struct {
		name         string
		rows, batch  int
		wantSteps    int
		wantLastRows int
	}{
		{"full batch", 100, 0, 1, 100},
		{"batch above rows", 100, 500, 1, 100},
		{"even", 100, 25, 4, 25},
		{"partial last batch", 100, 32, 4, 4},
		{"batch of one", 10, 1, 10, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := cpuref.New()
			m := newModel(t, b, xorSpec, 1)
			var steps, lastSamples, prev int
			hooks := nn.Hooks{Step: func(p nn.Progress) {
				steps++
				assert.Equal(t, tt.wantSteps, p.Steps)
				lastSamples = p.Samples - prev
				prev = p.Samples
			}}
			h, err := nn.Train(context.Background(), b, m, xorSet(tt.rows, 3), nn.Config{Epochs: 1, Batch: tt.batch, LR: 0.1}, hooks)
			require.NoError(t, err)
			assert.Equal(t, tt.wantSteps, steps)
			assert.Equal(t, tt.wantLastRows, lastSamples)
			require.Len(t, h.Epochs, 1)
			assert.Equal(t, tt.rows, h.Epochs[0].Samples)
			assert.Equal(t, tt.wantSteps, h.Epochs[0].Steps)
			assert.Equal(t, tt.wantSteps, m.Info.Step)
			assert.False(t, h.Epochs[0].Partial)
		})
	}
}

func TestOptimizersDecreaseLoss(t *testing.T) {
	tests := []struct {
		opt string
		lr  float64
	}{{"sgd", 0.5}, {"momentum", 0.05}, {"Adam", 0.01}}
	set := xorSet(100, 4)
	for _, tt := range tests {
		t.Run(tt.opt, func(t *testing.T) {
			opt, err := nn.ParseOptimizer(tt.opt)
			require.NoError(t, err)
			b := cpuref.New()
			m := newModel(t, b, xorSpec, 3)
			before, err := m.Evaluate(set, 0)
			require.NoError(t, err)
			h, err := nn.Train(context.Background(), b, m, set, nn.Config{Epochs: 10, Batch: 20, LR: tt.lr, Optimizer: opt, Seed: 1}, nn.Hooks{})
			require.NoError(t, err)
			after, err := m.Evaluate(set, 0)
			require.NoError(t, err)
			assert.Less(t, after.Loss, before.Loss)
			assert.Less(t, h.Last().Loss, h.Epochs[0].Loss)
			assert.Equal(t, opt.String(), m.Info.Optimizer)
		})
	}
	_, err := nn.ParseOptimizer("rmsprop")
	assert.ErrorContains(t, err, "rmsprop")
}

func TestTrainDiverges(t *testing.T) {
	tests := []struct {
		name     string
		lr       float64
		logEvery int
	}{
		{"per epoch", 1, 0},
		{"per step", 1, 1},
		// The loss overflows in step 151, the first of epoch 31; the last
		// reading was at step 148, in epoch 30, which ended finite.
		{"readings across epochs", 0.00055125, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := cpuref.New()
			m := newModel(t, b, lineSpec, 1)
			set := lineSet(50, 5) // unscaled features around 100: lr 1 explodes
			h, err := nn.Train(context.Background(), b, m, set, nn.Config{Epochs: 50, Batch: 10, LR: tt.lr, LogEvery: tt.logEvery}, nn.Hooks{})
			require.Error(t, err)
			assert.ErrorIs(t, err, nn.ErrDiverged)
			var de *nn.DivergedError
			require.ErrorAs(t, err, &de)
			assert.Contains(t, err.Error(), "smaller learning rate")
			assert.Contains(t, err.Error(), "step")
			assert.Positive(t, de.ToStep)
			assert.LessOrEqual(t, de.FromStep, de.ToStep)
			if tt.logEvery == 1 {
				assert.Equal(t, de.FromStep, de.ToStep, "per-step logging pins the step")
				assert.Len(t, h.Logs, de.ToStep-1)
			}
			// 5 steps an epoch: the range lies within the epoch named, and
			// within one reading's window when readings are taken.
			assert.Equal(t, (de.ToStep-1)/5+1, de.Epoch)
			assert.GreaterOrEqual(t, de.FromStep, (de.Epoch-1)*5+1)
			if tt.logEvery > 0 {
				assert.Less(t, de.ToStep-de.FromStep, tt.logEvery)
			}
			for _, e := range h.Epochs {
				assert.False(t, math.IsNaN(e.Loss), "epochs before divergence have finite loss")
			}
		})
	}
}

func TestTrainCancel(t *testing.T) {
	b := cpuref.New()
	m := newModel(t, b, xorSpec, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var steps int
	hooks := nn.Hooks{Step: func(p nn.Progress) {
		steps++
		if steps == 13 { // epoch 2, step 3 of 10
			cancel()
		}
	}}
	h, err := nn.Train(ctx, b, m, xorSet(100, 6), nn.Config{Epochs: 5, Batch: 10, LR: 0.1}, hooks)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, errors.Is(err, nn.ErrDiverged))
	assert.Equal(t, 13, steps, "the current step finishes, no more")
	assert.Equal(t, 13, m.Info.Step)
	assert.Equal(t, 1, m.Info.Epoch, "only whole epochs count")
	require.Len(t, h.Epochs, 2)
	assert.False(t, h.Epochs[0].Partial)
	assert.True(t, h.Epochs[1].Partial)
	assert.Equal(t, 30, h.Epochs[1].Samples)
	assert.Equal(t, 3, h.Epochs[1].Steps)

	// Already cancelled: no step at all.
	h, err = nn.Train(ctx, b, m, xorSet(100, 6), nn.Config{Epochs: 5, Batch: 10, LR: 0.1}, nn.Hooks{})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, h.Epochs)
	assert.Equal(t, 13, m.Info.Step)
}

func TestTrainLogEvery(t *testing.T) {
	b := cpuref.New()
	m := newModel(t, b, xorSpec, 1)
	var logs, epochs int
	hooks := nn.Hooks{Log: func(nn.LogStats) { logs++ }, Epoch: func(nn.EpochStats) { epochs++ }}
	h, err := nn.Train(context.Background(), b, m, xorSet(100, 7), nn.Config{Epochs: 3, Batch: 10, LR: 0.1, LogEvery: 4}, hooks)
	require.NoError(t, err)
	assert.Equal(t, 7, logs) // 30 steps / 4
	assert.Equal(t, 3, epochs)
	require.Len(t, h.Logs, 7)
	// Readings that cover a whole epoch's rows average to the epoch loss.
	var sum float64
	var rows int
	for _, l := range h.Logs {
		assert.Equal(t, 40, l.Samples)
		assert.Equal(t, 0, l.Step%4)
		sum += l.Loss * float64(l.Samples)
		rows += l.Samples
	}
	assert.Equal(t, 280, rows)
	assert.Positive(t, sum)
	for _, e := range h.Epochs {
		assert.Positive(t, e.SamplesPerSec)
		assert.Positive(t, e.Elapsed)
	}
}

func TestTrainRejects(t *testing.T) {
	good := nn.Config{Epochs: 1, LR: 0.1}
	tests := []struct {
		name string
		cfg  nn.Config
		set  *nn.Set
		want string
	}{
		{"no epochs", nn.Config{LR: 0.1}, xorSet(10, 1), "epochs"},
		{"bad lr", nn.Config{Epochs: 1, LR: -1}, xorSet(10, 1), "learning rate"},
		{"nan lr", nn.Config{Epochs: 1, LR: math.NaN()}, xorSet(10, 1), "learning rate"},
		{"negative batch", nn.Config{Epochs: 1, LR: 0.1, Batch: -2}, xorSet(10, 1), "batch"},
		{"negative weight decay", nn.Config{Epochs: 1, LR: 0.1, WeightDecay: -1}, xorSet(10, 1), "weight decay -1"},
		{"nan weight decay", nn.Config{Epochs: 1, LR: 0.1, WeightDecay: math.NaN()}, xorSet(10, 1), "weight decay NaN"},
		{"negative clip", nn.Config{Epochs: 1, LR: 0.1, ClipNorm: -1}, xorSet(10, 1), "gradient clipping norm -1"},
		{"negative dropout", nn.Config{Epochs: 1, LR: 0.1, Dropout: -0.1}, xorSet(10, 1), "dropout -0.1 (Config.Dropout), want 0 (none) or a probability below 1"},
		{"dropout of 1", nn.Config{Epochs: 1, LR: 0.1, Dropout: 1}, xorSet(10, 1), "dropout 1 (Config.Dropout)"},
		{"nan dropout", nn.Config{Epochs: 1, LR: 0.1, Dropout: math.NaN()}, xorSet(10, 1), "dropout NaN (Config.Dropout)"},
		{"wrong width", good, pixelSet(9, 1), "pixels has 4 features per row, model 2-8-1 tanh binary wants 2"},
		{"bad label", good, &nn.Set{Name: "bad", Rows: 1, Cols: 2, Features: []float64{1, 2}, Labels: []float64{2}}, "label 0 is 2"},
		{"missing labels", good, &nn.Set{Name: "bad", Rows: 1, Cols: 2, Features: []float64{1, 2}}, "0 labels"},
		{"short features", good, &nn.Set{Name: "bad", Rows: 2, Cols: 2, Features: []float64{1, 2}, Labels: []float64{0, 1}}, "features: len 2, want rows*cols = 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := cpuref.New()
			m := newModel(t, b, xorSpec, 1)
			_, err := nn.Train(context.Background(), b, m, tt.set, tt.cfg, nn.Hooks{})
			assert.ErrorContains(t, err, tt.want)
		})
	}
	t.Run("foreign backend panics", func(t *testing.T) {
		m := newModel(t, cpuref.New(), xorSpec, 1)
		assert.PanicsWithValue(t, "nn: Train: backend is not the model's backend", func() {
			_, _ = nn.Train(context.Background(), cpuref.New(), m, xorSet(10, 1), good, nn.Hooks{})
		})
	})
}

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		spec nn.Spec
		want string
	}{
		{nn.Spec{Inputs: 0, Outputs: 1}, "at least 1 input"},
		{nn.Spec{Inputs: 2, Outputs: 2, Head: nn.BinaryHead}, "binary head needs 1 output"},
		{nn.Spec{Inputs: 2, Outputs: 1, Head: nn.SoftmaxHead}, "at least 2 outputs"},
		{nn.Spec{Inputs: 2, Hidden: []int{3, 0}, Outputs: 1}, "hidden layer 1 has width 0"},
		{nn.Spec{Inputs: 2, Outputs: 1, Head: nn.Head(9)}, "unknown head"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := nn.NewModel(cpuref.New(), tt.spec, 1)
			assert.ErrorContains(t, err, tt.want)
		})
	}
	assert.Equal(t, "784-128-64-10 relu softmax",
		nn.Spec{Inputs: 784, Hidden: []int{128, 64}, Outputs: 10, Activation: backend.ReLU, Head: nn.SoftmaxHead}.String())
}

func TestInitParams(t *testing.T) {
	tests := []struct {
		act     backend.Activation
		init    nn.Init
		wantStd float64
	}{
		{backend.ReLU, nn.InitAuto, math.Sqrt(2.0 / 400)},              // He
		{backend.Tanh, nn.InitAuto, math.Sqrt(6.0/600) / math.Sqrt(3)}, // Glorot uniform
		{backend.ReLU, nn.InitXavier, math.Sqrt(6.0/600) / math.Sqrt(3)},
		{backend.Sigmoid, nn.InitNormal, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.act.String()+"/"+tt.init.String(), func(t *testing.T) {
			spec := nn.Spec{Inputs: 400, Hidden: []int{200}, Outputs: 1, Activation: tt.act, Init: tt.init}
			ps := nn.InitParams(spec, 5)
			require.Len(t, ps, 2)
			var ss float64
			for _, w := range ps[0].W {
				ss += w * w
			}
			assert.InEpsilon(t, tt.wantStd, math.Sqrt(ss/float64(len(ps[0].W))), 0.03)
			assert.Equal(t, make([]float64, 200), ps[0].B)
			assert.Equal(t, ps, nn.InitParams(spec, 5))
			assert.NotEqual(t, ps[0].W, nn.InitParams(spec, 6)[0].W)
		})
	}
	// NewModel uploads exactly InitParams.
	b := cpuref.New()
	m := newModel(t, b, xorSpec, 9)
	got, err := m.Params()
	require.NoError(t, err)
	assert.Equal(t, nn.InitParams(xorSpec, 9), got)
}

// TestWeightDecayShrinksWeights: a model trained with a large decay ends
// with smaller weights than without, by each optimizer, and the decay is
// recorded in Info. (TestDecayMask checks that biases are left out.)
func TestWeightDecayShrinksWeights(t *testing.T) {
	norm := func(ps []nn.Params) (w, b float64) {
		for _, p := range ps {
			for _, v := range p.W {
				w += v * v
			}
			for _, v := range p.B {
				b += v * v
			}
		}
		return math.Sqrt(w), math.Sqrt(b)
	}
	for _, opt := range []nn.Optimizer{nn.SGD, nn.Momentum, nn.Adam, nn.AdamW} {
		t.Run(opt.String(), func(t *testing.T) {
			var ws [2]float64
			for i, wd := range []float64{0, 0.5} {
				b := cpuref.New()
				m := newModel(t, b, blobSpec, 3)
				cfg := nn.Config{Epochs: 5, Batch: 16, LR: 0.05, Optimizer: opt, WeightDecay: wd, Seed: 1}
				_, err := nn.Train(context.Background(), b, m, blobSet(90, 1), cfg, nn.Hooks{})
				require.NoError(t, err)
				ps, err := m.Params()
				require.NoError(t, err)
				ws[i], _ = norm(ps)
				assert.Equal(t, wd, m.Info.WeightDecay)
			}
			assert.Less(t, ws[1], 0.9*ws[0], "weight norm with decay 0.5 against none")
		})
	}
}

// TestWeightDecayZeroIsNone: a zero decay trains bit for bit as before the
// decay existed (the optimizers skip the term), and AdamW with decay 0 is
// Adam.
func TestWeightDecayZeroIsNone(t *testing.T) {
	run := func(opt nn.Optimizer) []nn.Params {
		b := cpuref.New()
		m := newModel(t, b, xorSpec, 3)
		_, err := nn.Train(context.Background(), b, m, xorSet(60, 1), nn.Config{Epochs: 3, Batch: 8, LR: 0.05, Optimizer: opt, Seed: 1}, nn.Hooks{})
		require.NoError(t, err)
		ps, err := m.Params()
		require.NoError(t, err)
		return ps
	}
	assert.Equal(t, run(nn.Adam), run(nn.AdamW))
}

// TestTrainScheduleHistory: the history records each epoch's learning
// rate, and the optimizer reads it: a step schedule that drops the rate to
// almost 0 after 2 epochs ends where 2 epochs at the constant rate end,
// not where 4 do.
func TestTrainScheduleHistory(t *testing.T) {
	run := func(epochs int, s nn.Schedule) ([]nn.Params, nn.History) {
		b := cpuref.New()
		m := newModel(t, b, xorSpec, 3)
		cfg := nn.Config{Epochs: epochs, Batch: 16, LR: 0.5, Seed: 1, Schedule: s}
		h, err := nn.Train(context.Background(), b, m, xorSet(90, 1), cfg, nn.Hooks{})
		require.NoError(t, err)
		ps, err := m.Params()
		require.NoError(t, err)
		return ps, h
	}
	dist := func(a, b []nn.Params) (d float64) {
		for i := range a {
			for j := range a[i].W {
				d += math.Abs(a[i].W[j] - b[i].W[j])
			}
		}
		return d
	}
	got, h := run(4, nn.Schedule{Kind: nn.StepLR, StepEvery: 2, StepGamma: 1e-12})
	var lrs []float64
	for _, e := range h.Epochs {
		lrs = append(lrs, e.LR)
	}
	assert.InDeltaSlice(t, []float64{0.5, 0.5, 5e-13, 5e-13}, lrs, 1e-15)
	two, _ := run(2, nn.Schedule{})
	four, _ := run(4, nn.Schedule{})
	assert.Less(t, dist(got, two), 1e-9, "4 epochs with the rate dropped after 2 against 2 epochs")
	assert.Greater(t, dist(got, four), 1e-3, "against 4 epochs at the constant rate")
}

// TestClipNormBoundsTheStep: with SGD the update is lr·g, so clipping at c
// bounds each step's move of the parameters to lr·c in norm: a large
// learning rate that moves them far in one unclipped step moves them at
// most lr·c clipped.
func TestClipNormBoundsTheStep(t *testing.T) {
	move := func(clip float64) float64 {
		b := cpuref.New()
		m := newModel(t, b, xorSpec, 3)
		before, err := m.Params()
		require.NoError(t, err)
		cfg := nn.Config{Epochs: 1, LR: 1, Seed: 1, ClipNorm: clip} // full batch: one step
		_, err = nn.Train(context.Background(), b, m, xorSet(40, 1), cfg, nn.Hooks{})
		require.NoError(t, err)
		after, err := m.Params()
		require.NoError(t, err)
		d := 0.0
		for i := range after {
			for j := range after[i].W {
				d += (after[i].W[j] - before[i].W[j]) * (after[i].W[j] - before[i].W[j])
			}
			for j := range after[i].B {
				d += (after[i].B[j] - before[i].B[j]) * (after[i].B[j] - before[i].B[j])
			}
		}
		return math.Sqrt(d)
	}
	free := move(0)
	require.Greater(t, free, 0.02, "the unclipped step")
	assert.InDelta(t, 0.01, move(0.01), 1e-6, "clipped at 0.01, lr 1 (short by the 1e-6 in the norm's denominator)")
	assert.InDelta(t, free, move(100), 1e-12, "a threshold above the norm changes nothing")
}

// TestClassWeights: with SGD, weighing every class by 2 doubles every
// gradient, so it trains as the learning rate doubled; the weights are
// checked against the model; BalancedClassWeights is scikit-learn's rule.
func TestClassWeights(t *testing.T) {
	run := func(cfg nn.Config) []nn.Params {
		b := cpuref.New()
		m := newModel(t, b, blobSpec, 3)
		_, err := nn.Train(context.Background(), b, m, blobSet(60, 1), cfg, nn.Hooks{})
		require.NoError(t, err)
		ps, err := m.Params()
		require.NoError(t, err)
		return ps
	}
	weighted := run(nn.Config{Epochs: 2, Batch: 8, LR: 0.05, Seed: 1, ClassWeights: []float64{2, 2, 2}})
	doubled := run(nn.Config{Epochs: 2, Batch: 8, LR: 0.1, Seed: 1})
	for i := range weighted {
		assert.InDeltaSlice(t, doubled[i].W, weighted[i].W, 1e-12, "layer %d", i)
	}
	for _, tt := range []struct {
		spec nn.Spec
		w    []float64
		want string
	}{
		{blobSpec, []float64{1, 1}, "2 class weights for a model of 3 classes"},
		{blobSpec, []float64{1, -1, 1}, "class 1's weight -1"},
		{xorSpec, []float64{1, 1, 1}, "3 class weights for a model of 2 classes"},
		{lineSpec, []float64{1}, "class weights need a classifier"},
	} {
		b := cpuref.New()
		m := newModel(t, b, tt.spec, 1)
		set := blobSet(30, 1)
		switch tt.spec.Head {
		case nn.BinaryHead:
			set = xorSet(30, 1)
		case nn.RegressionHead:
			set = lineSet(30, 1)
		}
		_, err := nn.Train(context.Background(), b, m, set, nn.Config{Epochs: 1, LR: 0.1, ClassWeights: tt.w}, nn.Hooks{})
		assert.ErrorContains(t, err, tt.want)
	}
	s := &nn.Set{Rows: 4, Cols: 1, Features: []float64{0, 0, 0, 0}, Labels: []float64{0, 0, 0, 1}, Classes: 3}
	assert.Equal(t, []float64{4.0 / 9, 4.0 / 3, 1}, nn.BalancedClassWeights(s, 3))
}

// TestDropoutTraining: dropout changes what training does, deterministically
// (the same seed gives the same weights, bit for bit), its masks are keyed by
// Config.Seed, and it is recorded in Model.Info. Prediction never drops:
// two predictions of the trained model agree.
func TestDropoutTraining(t *testing.T) {
	set := blobSet(90, 2)
	train := func(drop float64, seed uint64) (*nn.Model, [][]float64) {
		b := cpuref.New()
		m := newModel(t, b, blobSpec, 5)
		_, err := nn.Train(context.Background(), b, m, set, nn.Config{Epochs: 3, Batch: 16, LR: 0.05, Dropout: drop, Seed: seed}, nn.Hooks{})
		require.NoError(t, err)
		ps, err := m.Params()
		require.NoError(t, err)
		var ws [][]float64
		for _, p := range ps {
			ws = append(ws, p.W)
		}
		return m, ws
	}
	m, with := train(0.3, 1)
	_, again := train(0.3, 1)
	_, without := train(0, 1)
	_, otherSeed := train(0.3, 2)
	assert.Equal(t, with, again, "the same seed, the same masks")
	assert.NotEqual(t, with, without, "dropout changes the steps")
	assert.NotEqual(t, with, otherSeed, "the seed keys the masks")
	assert.Equal(t, 0.3, m.Info.Dropout)
	p1, err := m.Predict(set, 0)
	require.NoError(t, err)
	p2, err := m.Predict(set, 7)
	require.NoError(t, err)
	assert.Equal(t, p1.Outputs, p2.Outputs, "prediction does not drop")
}
