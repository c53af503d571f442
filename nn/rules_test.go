package nn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/nn"
)

func TestHeadFor(t *testing.T) {
	for _, tt := range []struct {
		classes, outputs int
		head             nn.Head
		width            int
	}{
		{2, 1, nn.BinaryHead, 1},
		{3, 1, nn.SoftmaxHead, 3},
		{10, 0, nn.SoftmaxHead, 10},
		{0, 1, nn.RegressionHead, 1},
		{0, 0, nn.RegressionHead, 1},
		{0, 3, nn.RegressionHead, 3},
		{1, 1, nn.RegressionHead, 1},
	} {
		h, w := nn.HeadFor(&nn.Set{Classes: tt.classes, Outputs: tt.outputs})
		assert.Equal(t, tt.head, h, "%d classes", tt.classes)
		assert.Equal(t, tt.width, w, "%d classes", tt.classes)
		if tt.classes >= 2 {
			assert.Equal(t, tt.classes, nn.Spec{Head: h, Outputs: w}.Classes(), "the inverse")
		} else {
			assert.Zero(t, nn.Spec{Head: h, Outputs: w}.Classes())
		}
	}
}

func TestScoreString(t *testing.T) {
	c := nn.Score{Metrics: nn.Metrics{Loss: 0.12345, Accuracy: 0.975, Rows: 359}}
	assert.Equal(t, "loss 0.1235, accuracy 97.50% on 359 rows", c.String())
	r := nn.Score{Metrics: nn.Metrics{Loss: 0.5, Rows: 10}, Regression: &nn.RegressionMetrics{RMSE: 1.5, MAE: 1.25, R2: 0.87654}}
	assert.Equal(t, "loss 0.5000 (standardised), RMSE 1.5, MAE 1.25, R² 0.8765 on 10 rows", r.String())
}

// TestCheckpointerEpoch: the hook writes each epoch's state when the next
// epoch ends, skips epochs keep refuses, and stops at the first error.
func TestCheckpointerEpoch(t *testing.T) {
	b := cpuref.New()
	defer b.Close()
	set := &nn.Set{Name: "and", Rows: 4, Cols: 2, Classes: 2,
		Features: []float64{0, 0, 0, 1, 1, 0, 1, 1}, Labels: []float64{0, 0, 0, 1}}
	m, err := nn.NewModel(b, nn.Spec{Inputs: 2, Hidden: []int{3}, Outputs: 1, Activation: backend.Tanh, Head: nn.BinaryHead}, 1)
	require.NoError(t, err)
	defer m.Free()
	var written []int
	c := &nn.Checkpointer{Write: func(ck []byte, epoch int) error {
		assert.NotEmpty(t, ck)
		written = append(written, epoch)
		return nil
	}}
	odd := func(s nn.EpochStats) bool { return s.Epoch%2 == 1 }
	_, err = nn.Train(context.Background(), b, m, set, nn.Config{Epochs: 5, LR: 0.1}, nn.Hooks{Epoch: c.Epoch(m, odd, nil)})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 3}, written, "epoch 5 is held, not yet vouched for")
	assert.Equal(t, 3, c.Saved())
	require.NoError(t, c.Save(m, 6))
	assert.Equal(t, []int{1, 3, 6}, written)
	require.NoError(t, c.Vouch(), "Save dropped the held state")
	assert.Equal(t, []int{1, 3, 6}, written)

	boom := errors.New("disk full")
	var got error
	f := &nn.Checkpointer{Write: func([]byte, int) error { return boom }}
	_, err = nn.Train(context.Background(), b, m, set, nn.Config{Epochs: 4, LR: 0.1}, nn.Hooks{Epoch: f.Epoch(m, nil, func(err error) { got = err })})
	require.NoError(t, err)
	assert.ErrorIs(t, got, boom)
	assert.ErrorIs(t, f.Err(), boom)
	assert.Equal(t, 0, f.Saved())
}
