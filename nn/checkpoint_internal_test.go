package nn

import (
	"encoding/json"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/safetensors"
)

// TestCheckpointPyTorchLayout reads a saved file back at the format level:
// PyTorch names, out×in weights, 1-D biases, and JSON metadata.
func TestCheckpointPyTorchLayout(t *testing.T) {
	spec := Spec{Inputs: 3, Hidden: []int{4}, Outputs: 2, Activation: backend.ReLU, Head: SoftmaxHead}
	m, err := NewModel(cpuref.New(), spec, 1)
	require.NoError(t, err)
	defer m.Free()
	m.Info.Data = "toy"
	path := filepath.Join(t.TempDir(), "m.safetensors")
	require.NoError(t, m.Save(path))

	f, err := safetensors.Read(path)
	require.NoError(t, err)
	names := make([]string, 0, len(f.Tensors))
	for _, tn := range f.Tensors {
		names = append(names, tn.Name)
		assert.Equal(t, safetensors.F64, tn.DType, "cpuref computes in float64, so %s is stored as F64", tn.Name)
	}
	assert.ElementsMatch(t, []string{"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"}, names)
	assert.Equal(t, []int{4, 3}, f.Tensor("layers.0.weight").Shape)
	assert.Equal(t, []int{4}, f.Tensor("layers.0.bias").Shape)
	assert.Equal(t, []int{2, 4}, f.Tensor("layers.1.weight").Shape)
	assert.Equal(t, []int{2}, f.Tensor("layers.1.bias").Shape)
	meta := f.Metadata

	ps, err := m.Params()
	require.NoError(t, err)
	for i, p := range ps {
		w := f.Tensor(WeightName(i))
		for r := range p.In {
			for c := range p.Out {
				// torch: weight[out][in]; nn: W[in][out].
				assert.Equal(t, p.W[r*p.Out+c], w.Data[c*p.In+r], "layer %d W[%d,%d]", i, r, c)
			}
		}
		assert.Equal(t, p.B, f.Tensor(BiasName(i)).Data, "layer %d bias", i)
	}

	assert.Equal(t, CheckpointFormat, meta[MetaFormat])
	var sj map[string]any
	require.NoError(t, json.Unmarshal([]byte(meta[MetaSpec]), &sj))
	assert.Equal(t, map[string]any{"inputs": 3.0, "hidden": []any{4.0}, "outputs": 2.0,
		"activation": "relu", "head": "softmax", "init": "auto"}, sj)
	var info map[string]any
	require.NoError(t, json.Unmarshal([]byte(meta[MetaTraining]), &info))
	assert.Equal(t, "toy", info["data"])
	assert.Equal(t, 1.0, info["seed"])
}

func TestSaveRefusesNonFinite(t *testing.T) {
	m, err := NewModel(cpuref.New(), Spec{Inputs: 1, Outputs: 1, Head: RegressionHead}, 1)
	require.NoError(t, err)
	defer m.Free()
	require.NoError(t, m.SetParams([]Params{{In: 1, Out: 1, W: []float64{1}, B: []float64{math.NaN()}}}))
	err = m.Save(filepath.Join(t.TempDir(), "x"))
	assert.ErrorContains(t, err, "layer 0 bias [0] is NaN")
}
