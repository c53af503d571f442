package nn_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/safetensors"
)

func TestCheckpointRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		spec nn.Spec
		set  *nn.Set
		cfg  nn.Config
	}{
		{"binary", xorSpec, xorSet(60, 1), nn.Config{Epochs: 3, Batch: 16, LR: 0.1, Optimizer: nn.Adam, Seed: 3}},
		{"softmax standardised", blobSpec, blobSet(60, 1), nn.Config{Epochs: 3, Batch: 16, LR: 0.1, Seed: 3, Standardize: true}},
		{"regression with target scaling", lineSpec, lineSet(60, 1), nn.Config{Epochs: 3, LR: 0.1, Seed: 3, Standardize: true}},
		{"pixels", pixelSpec, pixelSet(60, 1), nn.Config{Epochs: 3, LR: 0.1, Optimizer: nn.Momentum}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := cpuref.New()
			m := newModel(t, b, tt.spec, 5)
			_, err := nn.Train(context.Background(), b, m, tt.set, tt.cfg, nn.Hooks{})
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), "model.safetensors")
			require.NoError(t, m.Save(path))

			b2 := cpuref.New()
			l, err := nn.Load(path, b2)
			require.NoError(t, err)
			defer l.Free()
			assert.Equal(t, m.Spec, l.Spec)
			assert.Equal(t, m.Scaling, l.Scaling)
			assert.Equal(t, m.Info, l.Info)
			assert.Equal(t, tt.set.Name, l.Info.Data)
			assert.Equal(t, 3, l.Info.Epoch)
			want, err := m.Predict(tt.set, 0)
			require.NoError(t, err)
			got, err := l.Predict(tt.set, 7)
			require.NoError(t, err)
			assert.Equal(t, want, got, "identical predictions after a round trip")

			// Training goes on from the loaded model.
			_, err = nn.Train(context.Background(), b2, l, tt.set, tt.cfg, nn.Hooks{})
			require.NoError(t, err)
			assert.Equal(t, 6, l.Info.Epoch)
		})
	}
}

func TestCheckpointShapeMismatch(t *testing.T) {
	b := cpuref.New()
	m := newModel(t, b, xorSpec, 1) // 2-8-1
	path := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, m.Save(path))

	tests := []struct {
		name string
		spec nn.Spec
		want []string
	}{
		{"hidden width", nn.Spec{Inputs: 2, Hidden: []int{5}, Outputs: 1, Activation: backend.Tanh},
			[]string{"layers.0.weight", "[8 2]", "[5 2]"}},
		{"inputs", nn.Spec{Inputs: 3, Hidden: []int{8}, Outputs: 1, Activation: backend.Tanh},
			[]string{"layers.0.weight", "[8 2]", "[8 3]"}},
		{"outputs", nn.Spec{Inputs: 2, Hidden: []int{8}, Outputs: 3, Head: nn.SoftmaxHead},
			[]string{"layers.1.weight", "[1 8]", "[3 8]"}},
		{"more layers", nn.Spec{Inputs: 2, Hidden: []int{8, 4}, Outputs: 1},
			[]string{"layers.1.weight", "[1 8]", "[4 8]"}},
		{"fewer layers", nn.Spec{Inputs: 2, Outputs: 1},
			[]string{"layers.0.weight", "[8 2]", "[1 2]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other := newModel(t, b, tt.spec, 2)
			before, err := other.Params()
			require.NoError(t, err)
			err = other.LoadParams(path)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Contains(t, err.Error(), path)
			after, err := other.Params()
			require.NoError(t, err)
			assert.Equal(t, before, after, "a failed load leaves the model unchanged")
		})
	}

	t.Run("extra layer in file", func(t *testing.T) {
		deep := newModel(t, b, nn.Spec{Inputs: 2, Hidden: []int{8, 1}, Outputs: 1, Activation: backend.Tanh}, 1)
		p := filepath.Join(t.TempDir(), "deep.safetensors")
		require.NoError(t, deep.Save(p))
		// The first two layers fit a 2-8-1 model, the third does not exist.
		err := m.LoadParams(p)
		assert.ErrorContains(t, err, "is not a parameter of the 2 layers")
		assert.ErrorContains(t, err, "checkpoint tensor layers.2.")
	})

	t.Run("stray tensor in file", func(t *testing.T) {
		f, err := safetensors.Read(path)
		require.NoError(t, err)
		f.Tensors = append(f.Tensors, safetensors.Tensor{Name: "optimizer.momentum", Shape: []int{3}, Data: []float64{1, 2, 3}})
		p := filepath.Join(t.TempDir(), "stray.safetensors")
		require.NoError(t, safetensors.Write(p, f.Tensors, f.Metadata))
		_, err = nn.Load(p, b)
		assert.ErrorContains(t, err, "checkpoint tensor optimizer.momentum (shape [3]) is not a parameter")
	})

	t.Run("matching spec loads", func(t *testing.T) {
		same := newModel(t, b, xorSpec, 99)
		require.NoError(t, same.LoadParams(path))
		want, _ := m.Params()
		got, _ := same.Params()
		assert.Equal(t, want, got)
	})

	t.Run("not a checkpoint", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "junk")
		require.NoError(t, os.WriteFile(p, []byte("junk"), 0o644))
		_, err := nn.Load(p, b)
		assert.ErrorContains(t, err, p)
		_, err = nn.Load(filepath.Join(t.TempDir(), "absent"), b)
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
}

// TestCheckpointBytesAreSave: Checkpoint returns the bytes Save writes.
func TestCheckpointBytesAreSave(t *testing.T) {
	b := cpuref.New()
	m := newModel(t, b, xorSpec, 1)
	m.Info.Subset = []int{3, 8}
	p := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, m.Save(p))
	got, err := m.Checkpoint()
	require.NoError(t, err)
	want, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	spec, info, table, err := nn.LoadInfo(p)
	require.NoError(t, err)
	assert.Equal(t, xorSpec.Hidden, spec.Hidden)
	assert.Equal(t, []int{3, 8}, info.Subset, "the classes trained on survive the checkpoint")
	assert.Nil(t, table)
}
