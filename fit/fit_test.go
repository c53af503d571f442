package fit_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/data"
	"github.com/gputrain/gputrain/fit"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/table"
)

func TestDataErrors(t *testing.T) {
	nan := math.NaN()
	for _, tt := range []struct {
		name string
		make func() (*fit.Data, error)
		want string
	}{
		{"no rows", func() (*fit.Data, error) { return fit.Classification(nil, nil) }, "fit: no rows"},
		{"empty row", func() (*fit.Data, error) { return fit.Regression([][]float64{{}}, []float64{1}) }, "fit: row 0 has no features"},
		{"ragged", func() (*fit.Data, error) { return fit.Classification([][]float64{{1, 2}, {3, 4}, {5}}, []int{0, 1, 0}) }, "fit: row 2 has 1 features, want 2 as row 0 has"},
		{"NaN feature", func() (*fit.Data, error) { return fit.Classification([][]float64{{1, 2}, {3, nan}}, []int{0, 1}) }, "fit: row 1, column 1 is NaN, want a finite number"},
		{"labels count", func() (*fit.Data, error) { return fit.Classification([][]float64{{1}, {2}}, []int{0}) }, "fit: 2 rows of features but 1 labels"},
		{"negative label", func() (*fit.Data, error) { return fit.Classification([][]float64{{1}, {2}}, []int{0, -1}) }, "fit: label of row 1 is -1, want a class index from 0 to 65535"},
		{"huge label", func() (*fit.Data, error) { return fit.Classification([][]float64{{1}, {2}}, []int{0, 1 << 20}) }, "fit: label of row 1 is 1048576, want a class index from 0 to 65535"},
		{"one class", func() (*fit.Data, error) { return fit.Classification([][]float64{{1}, {2}}, []int{3, 3}) }, "fit: every label is 3: a classifier needs at least 2 classes"},
		{"targets count", func() (*fit.Data, error) { return fit.Regression([][]float64{{1}, {2}}, []float64{1, 2, 3}) }, "fit: 2 rows of features but 3 targets"},
		{"infinite target", func() (*fit.Data, error) { return fit.Regression([][]float64{{1}, {2}}, []float64{1, math.Inf(-1)}) }, "fit: target of row 1 is -Inf, want a finite number"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.make()
			assert.Nil(t, d)
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestDataShapes(t *testing.T) {
	d, err := fit.Classification([][]float64{{1, 2}, {3, 4}, {5, 6}}, []int{0, 2, 0})
	require.NoError(t, err)
	s := d.Train
	assert.Equal(t, []float64{1, 2, 3, 4, 5, 6}, s.Features)
	assert.Equal(t, []float64{0, 2, 0}, s.Labels)
	assert.Equal(t, [4]int{3, 2, 3, 1}, [4]int{s.Rows, s.Cols, s.Classes, s.Outputs})
	assert.Equal(t, fit.Classes, fit.KindOf(s))
	h, out := nn.HeadFor(s)
	assert.Equal(t, nn.SoftmaxHead, h)
	assert.Equal(t, 3, out)

	r, err := fit.Regression([][]float64{{1}, {2}}, []float64{0.5, 1.5})
	require.NoError(t, err)
	assert.Equal(t, 0, r.Train.Classes)
	assert.Equal(t, fit.Values, fit.KindOf(r.Train))
	h, out = nn.HeadFor(r.Train)
	assert.Equal(t, nn.RegressionHead, h)
	assert.Equal(t, 1, out)
}

// TestDefaults: the values the gputrain command trains with (its flags
// take them from here; see cmd/gputrain's tests).
func TestDefaults(t *testing.T) {
	for _, tt := range []struct {
		kind        fit.Kind
		hidden      []int
		act         backend.Activation
		lr          float64
		batch, eps  int
		standardize bool
	}{
		{fit.Images, []int{128, 64}, backend.Sigmoid, 0.01, 32, 20, false},
		{fit.Classes, []int{64, 32}, backend.ReLU, 0.001, 16, 50, true},
		{fit.Values, []int{64, 32}, backend.ReLU, 0.001, 16, 150, true},
		{fit.LargeImages, []int{256, 128}, backend.ReLU, 0.002, 64, 10, false},
	} {
		o := fit.DefaultsFor(tt.kind)
		assert.Equal(t, tt.hidden, o.Hidden)
		assert.Equal(t, tt.act, o.Activation)
		assert.Equal(t, nn.Adam, o.Optimizer)
		assert.Equal(t, nn.InitAuto, o.Init)
		assert.Equal(t, tt.lr, o.LR)
		assert.Equal(t, tt.batch, o.Batch)
		assert.Equal(t, tt.eps, o.Epochs)
		assert.Equal(t, tt.standardize, o.Standardize)
		assert.Equal(t, uint64(1), o.Seed)
		assert.Nil(t, o.Backend)
	}
	digits, err := data.DigitsSet()
	require.NoError(t, err)
	assert.Equal(t, fit.Images, fit.KindOf(digits))
	assert.Equal(t, nn.CosineLR, fit.DefaultsFor(fit.LargeImages).Schedule.Kind)
	assert.Equal(t, 0.003, fit.DefaultsFor(fit.Classes).WeightDecay, "L2 for table classifiers")
	assert.Zero(t, fit.DefaultsFor(fit.Values).WeightDecay)
	assert.Zero(t, fit.DefaultsFor(fit.Images).WeightDecay)
	assert.Equal(t, nn.ConstantLR, fit.DefaultsFor(fit.Images).Schedule.Kind)
	large := &data.Set{Rows: 1, Cols: 28 * 28, Pixels: make([]byte, 28*28), Labels: []float64{0}, Classes: 10}
	assert.Equal(t, fit.LargeImages, fit.KindOf(large))
}

// blobs is a two-class problem a default classifier learns in its 50
// epochs.
func blobs(t *testing.T) *fit.Data {
	t.Helper()
	var x [][]float64
	var y []int
	for i := range 200 {
		c := i % 2
		x = append(x, []float64{float64(c)*4 + float64(i%7)/7, float64(i%5) / 5})
		y = append(y, c)
	}
	d, err := fit.Classification(x, y)
	require.NoError(t, err)
	return d
}

// TestTrainSaveLoad: defaults train a classifier; its checkpoint is nn's,
// and a loaded model predicts the same.
func TestTrainSaveLoad(t *testing.T) {
	b := cpuref.New()
	defer b.Close()
	d, err := blobs(t).HoldOut(0.2, 1)
	require.NoError(t, err)
	opt := fit.Defaults(d)
	opt.Backend = b
	epochs := 0
	opt.Hooks.Epoch = func(nn.EpochStats) { epochs++ }
	m, err := fit.Train(context.Background(), d, &opt)
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, 50, epochs)
	assert.Len(t, m.History().Epochs, 50)
	assert.Equal(t, "2-64-32-1 relu binary", m.Net().Spec.String())
	sc, err := m.Evaluate(d.Test)
	require.NoError(t, err)
	assert.Nil(t, sc.Regression)
	assert.Equal(t, 40, sc.Rows)
	assert.Equal(t, 1.0, sc.Accuracy)

	x := [][]float64{{0.1, 0.2}, {4.5, 0.5}}
	p, err := m.Predict(x)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1}, p.Classes)
	for _, pr := range p.Probs {
		assert.InDelta(t, 1, pr[0]+pr[1], 1e-12)
	}
	assert.Nil(t, p.Values)

	path := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, m.Save(path))
	net, err := nn.Load(path, b)
	require.NoError(t, err)
	net.Free()
	l, err := fit.Load(path, b)
	require.NoError(t, err)
	defer l.Close()
	q, err := l.Predict(x)
	require.NoError(t, err)
	assert.Equal(t, p, q)

	_, err = m.Predict([][]float64{{1, 2, 3}})
	assert.ErrorContains(t, err, "fit: nn: row 0 has 3 features, model 2-64-32-1 relu binary wants 2")
	_, err = m.PredictTable(nil)
	assert.ErrorContains(t, err, "not trained on a table")
	assert.Nil(t, m.Classes())
}

// TestClose: one Close frees the model; the backend given stays the
// caller's; methods of a closed model return ErrClosed.
func TestClose(t *testing.T) {
	b := cpuref.New()
	defer b.Close()
	opt := fit.Defaults(blobs(t))
	opt.Backend, opt.Epochs = b, 1
	m, err := fit.Train(context.Background(), blobs(t), &opt)
	require.NoError(t, err)
	m.Close()
	m.Close()
	_, err = m.Predict([][]float64{{1, 2}})
	assert.ErrorIs(t, err, fit.ErrClosed)
	assert.ErrorIs(t, m.Save(filepath.Join(t.TempDir(), "x")), fit.ErrClosed)
	_, err = m.Evaluate(blobs(t).Train)
	assert.ErrorIs(t, err, fit.ErrClosed)
	assert.Nil(t, m.Net())
	_, err = b.New(1, 1, backend.Float) // still open
	assert.NoError(t, err)
}

// TestTrainErrors: options and data that do not fit are errors.
func TestTrainErrors(t *testing.T) {
	b := cpuref.New()
	defer b.Close()
	for _, tt := range []struct {
		name string
		edit func(o *fit.Options)
		want string
	}{
		{"zero epochs", func(o *fit.Options) { o.Epochs = 0 }, "fit: nn: 0 epochs, want at least 1"},
		{"bad hidden", func(o *fit.Options) { o.Hidden = []int{0} }, "fit: nn: hidden layer 0 has width 0"},
		{"bad lr", func(o *fit.Options) { o.LR = -1 }, "learning rate -1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := blobs(t)
			o := fit.Defaults(d)
			o.Backend = b
			tt.edit(&o)
			m, err := fit.Train(context.Background(), d, &o)
			assert.Nil(t, m)
			assert.ErrorContains(t, err, tt.want)
		})
	}
	_, err := fit.Train(context.Background(), &fit.Data{}, nil)
	assert.EqualError(t, err, "fit: no training set (Data.Train is nil)")
}

// TestCheckpointAndCancel: Options.Checkpoint is written during training
// one epoch behind; a cancelled run returns the model so far.
func TestCheckpointAndCancel(t *testing.T) {
	b := cpuref.New()
	defer b.Close()
	d := blobs(t)
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := fit.Defaults(d)
	opt.Backend, opt.Checkpoint = b, path
	var onDisk []int // the epoch in the file when each epoch ends
	opt.Hooks.Epoch = func(s nn.EpochStats) {
		if _, info, _, err := nn.LoadInfo(path); err == nil {
			onDisk = append(onDisk, info.Epoch)
		} else {
			onDisk = append(onDisk, 0)
		}
		if s.Epoch == 3 {
			cancel()
		}
	}
	m, err := fit.Train(ctx, d, &opt)
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, m)
	defer m.Close()
	assert.Equal(t, []int{0, 1, 2}, onDisk, "one behind")
	_, info, _, err := nn.LoadInfo(path)
	require.NoError(t, err)
	assert.Equal(t, m.Net().Info.Epoch, info.Epoch, "the state at the interrupt")

	opt.Checkpoint = filepath.Join(t.TempDir(), "missing", "ck.safetensors")
	opt.Hooks = nn.Hooks{}
	_, err = fit.Train(context.Background(), d, &opt)
	assert.ErrorContains(t, err, "fit: saving the checkpoint")
	assert.True(t, errors.Is(err, os.ErrNotExist), "%v", err)
}

// TestTable: a CSV model keeps its encoder (class names, one-hot inputs
// unscaled) and predicts raw rows.
func TestTable(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("x,colour,label\n")
	for i := range 100 {
		c := []string{"red", "blue"}[i%2]
		l := "low"
		if (i%10 >= 5) != (c == "blue") {
			l = "high"
		}
		csv.WriteString(strings.Join([]string{string(rune('0' + i%10)), c, l}, ",") + "\n")
	}
	path := filepath.Join(t.TempDir(), "t.csv")
	require.NoError(t, os.WriteFile(path, []byte(csv.String()), 0o644))
	d, err := fit.ReadCSV(path, "label")
	require.NoError(t, err)
	assert.Equal(t, 80, d.Train.Rows)
	assert.Equal(t, 20, d.Test.Rows)
	b := cpuref.New()
	defer b.Close()
	opt := fit.Defaults(d)
	opt.Backend, opt.Epochs = b, 5
	m, err := fit.Train(context.Background(), d, &opt)
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, []string{"high", "low"}, m.Classes())
	sc := m.Net().Scaling
	assert.Equal(t, []float64{0, 0}, sc.FeatureMean[1:], "one-hot inputs unscaled")
	assert.Equal(t, []float64{1, 1}, sc.FeatureStd[1:])
	assert.InDelta(t, 4.5, sc.FeatureMean[0], 0.3)

	rows, err := table.ReadFrom(strings.NewReader("colour,x\nred,NA\nblue,7\n"), "rows")
	require.NoError(t, err)
	_, err = m.PredictTable(rows)
	assert.ErrorContains(t, err, "rows")
	rows, err = table.ReadFrom(strings.NewReader("colour,x\nred,2\nblue,7\n"), "rows")
	require.NoError(t, err)
	p, err := m.PredictTable(rows)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1}, p.Rows)
	assert.Len(t, p.Classes, 2)
	assert.Len(t, p.Probs[0], 2)

	_, err = fit.ReadCSV(filepath.Join(t.TempDir(), "none.csv"), "label")
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = fit.ReadCSV(path, "nope")
	assert.ErrorContains(t, err, "nope")
}
