package nn_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/safetensors"
)

// trainedEnsemble trains an array of 3 seeds of spec on set on the CPU
// backend and returns it as an Ensemble.
func trainedEnsemble(t *testing.T, spec nn.Spec, set *nn.Set, cfg nn.Config) *nn.Ensemble {
	t.Helper()
	b := cpuref.New()
	arr, err := nn.NewArray(b, spec, []uint64{1, 2, 3})
	require.NoError(t, err)
	defer arr.Free()
	_, err = nn.TrainArray(context.Background(), arr, set, cfg, make([]nn.MemberConfig, 3), nn.ArrayHooks{})
	require.NoError(t, err)
	e, err := nn.NewEnsemble(arr)
	require.NoError(t, err)
	t.Cleanup(e.Free)
	return e
}

func TestEnsembleSaveLoadPredictsIdentically(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec nn.Spec
		set  *nn.Set
		cfg  nn.Config
	}{
		{"softmax", blobSpec, blobSet(90, 1), nn.Config{Epochs: 2, Batch: 16, LR: 0.05, Optimizer: nn.Adam, Seed: 7, Standardize: true}},
		{"binary", xorSpec, xorSet(60, 1), nn.Config{Epochs: 2, Batch: 16, LR: 0.05, Optimizer: nn.Adam, Seed: 7}},
		{"regression", lineSpec, lineSet(60, 1), nn.Config{Epochs: 2, Batch: 16, LR: 0.05, Optimizer: nn.Adam, Seed: 7, Standardize: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := trainedEnsemble(t, tc.spec, tc.set, tc.cfg)
			require.Equal(t, 3, e.Len())
			path := filepath.Join(t.TempDir(), "e.safetensors")
			require.NoError(t, e.Save(path))

			f, err := safetensors.Read(path)
			require.NoError(t, err)
			assert.Contains(t, f.Metadata[nn.MetaEnsemble], `"members":3`)
			assert.NotNil(t, f.Tensor("members.2.layers.0.weight"))
			assert.Nil(t, f.Tensor("layers.0.weight"))

			got, err := nn.LoadEnsemble(path, cpuref.New())
			require.NoError(t, err)
			defer got.Free()
			require.Equal(t, 3, got.Len())
			for k := range 3 {
				assert.Equal(t, e.Members[k].Info.Seed, got.Members[k].Info.Seed)
				assert.Equal(t, e.Members[k].Scaling, got.Members[k].Scaling)
			}
			want, err := e.Predict(tc.set, 7)
			require.NoError(t, err)
			have, err := got.Predict(tc.set, 7)
			require.NoError(t, err)
			assert.Equal(t, want, have, "bit for bit after a float64 round trip")

			// The average is the mean of the members' own predictions.
			var members []nn.Predictions
			for _, m := range e.Members {
				p, err := m.Predict(tc.set, 0)
				require.NoError(t, err)
				members = append(members, p)
			}
			for i := range tc.set.Rows {
				for j := range want.Outputs[i] {
					mean := (members[0].Outputs[i][j] + members[1].Outputs[i][j] + members[2].Outputs[i][j]) / 3
					assert.InDelta(t, mean, want.Outputs[i][j], 1e-15, "row %d output %d", i, j)
				}
			}

			sc, err := got.Score(tc.set, 0)
			require.NoError(t, err)
			assert.Equal(t, tc.set.Rows, sc.Rows)
			assert.False(t, math.IsNaN(sc.Loss))
			ms, err := got.MembersScore(tc.set, 0)
			require.NoError(t, err)
			if tc.spec.Head == nn.RegressionHead {
				require.NotNil(t, sc.Regression)
				require.NotNil(t, ms.Regression)
				// Averaging cannot make the squared error worse than the
				// members' mean (Jensen).
				assert.LessOrEqual(t, sc.Loss, ms.Loss+1e-12)
			} else {
				right := 0
				for i, c := range have.Classes {
					if c == int(tc.set.Labels[i]) {
						right++
					}
				}
				assert.Equal(t, float64(right)/float64(tc.set.Rows), sc.Accuracy)
				// Cross-entropy is convex in the probabilities.
				assert.LessOrEqual(t, sc.Loss, ms.Loss+1e-12)
			}
		})
	}
}

func TestEnsembleEvaluateByHand(t *testing.T) {
	set := blobSet(30, 2)
	e := trainedEnsemble(t, blobSpec, set, nn.Config{Epochs: 1, Batch: 10, LR: 0.05, Optimizer: nn.SGD, Seed: 3, Standardize: true})
	var loss float64
	for i := range set.Rows {
		var p float64
		for _, m := range e.Members {
			pr, err := m.Predict(set, 0)
			require.NoError(t, err)
			p += pr.Outputs[i][int(set.Labels[i])]
		}
		loss -= math.Log(p / 3)
	}
	ev, err := e.Evaluate(set, 0)
	require.NoError(t, err)
	assert.InDelta(t, loss/float64(set.Rows), ev.Loss, 1e-12)
}

func TestEnsembleOfOneIsAPlainCheckpoint(t *testing.T) {
	b := cpuref.New()
	m := newModel(t, b, blobSpec, 5)
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.safetensors")
	require.NoError(t, m.Save(plain))

	e, err := nn.LoadEnsemble(plain, b)
	require.NoError(t, err)
	defer e.Free()
	require.Equal(t, 1, e.Len())
	set := blobSet(20, 1)
	want, err := m.Predict(set, 0)
	require.NoError(t, err)
	got, err := e.Predict(set, 0)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	wantEv, err := m.Evaluate(set, 0)
	require.NoError(t, err)
	gotEv, err := e.Evaluate(set, 0)
	require.NoError(t, err)
	assert.Equal(t, wantEv, gotEv)

	// An ensemble of 1 saves exactly as its model.
	one := filepath.Join(dir, "one.safetensors")
	require.NoError(t, e.Save(one))
	f, err := safetensors.Read(one)
	require.NoError(t, err)
	assert.NotNil(t, f.Tensor("layers.0.weight"))
	assert.NotContains(t, f.Metadata, nn.MetaEnsemble)
}

func TestEnsembleCheckpointRefused(t *testing.T) {
	e := trainedEnsemble(t, blobSpec, blobSet(30, 1), nn.Config{Epochs: 1, Batch: 10, LR: 0.05, Optimizer: nn.SGD, Seed: 3})
	dir := t.TempDir()
	path := filepath.Join(dir, "e.safetensors")
	require.NoError(t, e.Save(path))
	rewrite := func(t *testing.T, edit func(f *safetensors.File)) string {
		g, err := safetensors.Read(path)
		require.NoError(t, err)
		edit(g)
		p := filepath.Join(t.TempDir(), "bad.safetensors")
		require.NoError(t, safetensors.Write(p, g.Tensors, g.Metadata))
		return p
	}

	t.Run("non-finite member tensor", func(t *testing.T) {
		p := rewrite(t, func(g *safetensors.File) { g.Tensor("members.1.layers.1.weight").Data[3] = math.NaN() })
		_, err := nn.LoadEnsemble(p, cpuref.New())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "members.1.layers.1.weight")
	})
	t.Run("member tensor of the wrong shape", func(t *testing.T) {
		p := rewrite(t, func(g *safetensors.File) {
			w := g.Tensor("members.2.layers.0.bias")
			w.Shape, w.Data = []int{7}, w.Data[:7]
		})
		_, err := nn.LoadEnsemble(p, cpuref.New())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "members.2.layers.0.bias")
	})
	t.Run("member missing", func(t *testing.T) {
		p := rewrite(t, func(g *safetensors.File) { g.Metadata[nn.MetaEnsemble] = `{"members":4,"training":[{},{},{},{}]}` })
		_, err := nn.LoadEnsemble(p, cpuref.New())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "members.3.layers.0.weight")
	})
	t.Run("member count beyond the file", func(t *testing.T) {
		p := rewrite(t, func(g *safetensors.File) { g.Metadata[nn.MetaEnsemble] = `{"members":1000000,"training":[]}` })
		_, err := nn.LoadEnsemble(p, cpuref.New())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "1000000 members")
	})
	t.Run("Load refuses an ensemble", func(t *testing.T) {
		_, err := nn.Load(path, cpuref.New())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "LoadEnsemble")
	})
}
