package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/cpuref"
	"github.com/gputrain/gputrain/fit"
	"github.com/gputrain/gputrain/nn"
	"github.com/gputrain/gputrain/table"
)

// TestLibraryTrainsTheCLIModel: on the same table with the defaults of
// both, train --csv and package fit train the same model, weight for
// weight: one head rule, one one-hot-aware scaling, one set of defaults.
func TestLibraryTrainsTheCLIModel(t *testing.T) {
	dir := t.TempDir()
	csv := flatsCSV(t, dir, "flats.csv", 60, 0, true)
	for _, tt := range []struct {
		target, drop string
		head         nn.Head
	}{
		{"kind", "id,price", nn.BinaryHead},
		{"price", "id,kind", nn.RegressionHead},
	} {
		t.Run(tt.target, func(t *testing.T) {
			ck := filepath.Join(dir, tt.target+".safetensors")
			code, _, stderr := gputrain(t, "--device", "cpu", "--csv", csv, "--target", tt.target, "--drop", tt.drop, "--na", "fill", "--epochs", "3", "--save", ck)
			require.Equal(t, 0, code, stderr)
			b := cpuref.New()
			defer b.Close()
			cli, err := nn.Load(ck, b)
			require.NoError(t, err)
			defer cli.Free()

			tb, err := table.Read(csv)
			require.NoError(t, err)
			opt := table.Defaults(tt.target)
			opt.Drop, opt.NA = columnList(tt.drop), table.NAFill
			d, _, err := fit.FromTable(tb, nil, opt)
			require.NoError(t, err)
			o := fit.Defaults(d)
			o.Epochs, o.Backend = 3, b
			m, err := fit.Train(context.Background(), d, &o)
			require.NoError(t, err)
			defer m.Close()
			lib := m.Net()

			assert.Equal(t, tt.head, lib.Spec.Head)
			assert.Equal(t, cli.Spec, lib.Spec)
			assert.Equal(t, cli.Scaling, lib.Scaling)
			assert.Equal(t, cli.Table, lib.Table)
			onehot := 0
			for j, num := range lib.Table.NumberInputs() {
				if !num {
					onehot++
					assert.Equal(t, [2]float64{0, 1}, [2]float64{lib.Scaling.FeatureMean[j], lib.Scaling.FeatureStd[j]}, "one-hot input %d unscaled", j)
				}
			}
			assert.Positive(t, onehot)
			want, err := cli.Params()
			require.NoError(t, err)
			got, err := lib.Params()
			require.NoError(t, err)
			assert.Equal(t, want, got, "the same weights")
		})
	}
}

// TestSynopsisStatesTheDefaults: train's help text states the library's
// image defaults, which are its flags' defaults.
func TestSynopsisStatesTheDefaults(t *testing.T) {
	d := fit.DefaultsFor(fit.Images)
	want := fmt.Sprintf("64-%s-10 %v MLP", strings.ReplaceAll(intList(d.Hidden), ",", "-"), d.Activation)
	assert.Contains(t, imageSynopsis, want)
	assert.Contains(t, strings.ReplaceAll(imageSynopsis, "\n", " "), fmt.Sprintf("lr %g, batch %d, %d epochs", d.LR, d.Batch, d.Epochs))
	assert.Contains(t, strings.ToLower(imageSynopsis), d.Optimizer.String())
}
