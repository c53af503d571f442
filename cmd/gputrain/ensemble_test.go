package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTrainEnsembleEvalPredict(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "e.safetensors")
	code, stdout, stderr := gputrain(t, "train", "--ensemble", "3", "--device", "cpu", "--epochs", "2", "--hidden", "16", "--save", ck)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "ensemble of 3")
	assert.Contains(t, stdout, "test, ensemble of 3: loss")
	assert.Contains(t, stdout, "test, members' mean (3 models alone): loss")
	require.FileExists(t, ck)

	// Member 1 trained as train --seed 2 alone would (the default seed is 1).
	code, _, solo := gputrain(t, "train", "--seed", "2", "--device", "cpu", "--epochs", "2", "--hidden", "16")
	require.Equal(t, 0, code, solo)
	i := strings.Index(solo, "epoch 2/2: loss ")
	require.GreaterOrEqual(t, i, 0, solo)
	loss := strings.Fields(solo[i+len("epoch 2/2: loss "):])[0]
	assert.Contains(t, stderr, "member 1 (seed 2): train loss "+strings.TrimSuffix(loss, ","))

	code, evOut, stderr := gputrain(t, "eval", "--model", ck, "--device", "cpu")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, evOut, "test, ensemble of 3: loss")
	assert.Contains(t, evOut, "test, members' mean (3 models alone): loss")

	code, js, stderr := gputrain(t, "train", "--ensemble", "3", "--device", "cpu", "--epochs", "2", "--hidden", "16", "--json")
	require.Equal(t, 0, code, stderr)
	res := decode(t, js)
	code, js, stderr = gputrain(t, "eval", "--model", ck, "--device", "cpu", "--json")
	require.Equal(t, 0, code, stderr)
	ev := decode(t, js)
	assert.EqualValues(t, 3, ev["ensemble"])
	for _, k := range []string{"test_loss", "test_accuracy", "members_test_loss", "members_test_accuracy"} {
		assert.InDelta(t, res[k], ev[k], 1e-6, "eval of the checkpoint reproduces train's %s", k)
	}

	code, pred, stderr := gputrain(t, "predict", "--model", ck, "--device", "cpu", "--n", "4")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, 4, strings.Count(pred, "predicted"))
}

func TestEnsembleUsageErrors(t *testing.T) {
	ck := filepath.Join(t.TempDir(), "m.safetensors")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ensemble", "3", "--resume", ck}, "--ensemble 3 and --resume"},
		{[]string{"--ensemble", "2", "--plot", filepath.Join(t.TempDir(), "p.png")}, "--ensemble 2 and --plot"},
		{[]string{"--ensemble", "0"}, "--ensemble 0 must be at least 1"},
	} {
		code, _, stderr := gputrain(t, append([]string{"train", "--device", "cpu"}, tc.args...)...)
		assert.Equal(t, 2, code, stderr)
		assert.Contains(t, stderr, tc.want)
	}
}

func TestEnsembleOnTable(t *testing.T) {
	dir := t.TempDir()
	train := flatsCSV(t, dir, "flats.csv", 160, 0, true)
	test := flatsCSV(t, dir, "flats-test.csv", 40, 500, true)
	ck := filepath.Join(dir, "price.safetensors")
	args := append([]string{"train", "--ensemble", "2", "--device", "cpu", "--csv", train, "--target", "price", "--drop", "id,kind",
		"--test-csv", test, "--save", ck, "--json"}, tableArgs...)
	code, stdout, stderr := gputrain(t, args...)
	require.Equal(t, 0, code, stderr)
	res := decode(t, stdout)
	assert.EqualValues(t, 2, res["ensemble"])
	assert.Contains(t, res, "members_test_rmse")

	code, stdout, stderr = gputrain(t, "eval", "--device", "cpu", "--model", ck, "--csv", test, "--json")
	require.Equal(t, 0, code, stderr)
	ev := decode(t, stdout)
	for _, k := range []string{"test_loss", "test_rmse", "test_r2", "members_test_rmse"} {
		assert.InDelta(t, res[k], ev[k], 1e-9, k)
	}
	code, stdout, stderr = gputrain(t, "predict", "--device", "cpu", "--model", ck, "--csv", test)
	require.Equal(t, 0, code, stderr)
	assert.Len(t, readCSVString(t, stdout), 41)
}
