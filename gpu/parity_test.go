package gpu_test

import (
	"testing"

	"github.com/gputrain/gputrain/backend/backendtest/paritytest"
	"github.com/gputrain/gputrain/gpu"
	"github.com/gputrain/gputrain/gpu/gputest"
)

// The parity suite: every GPU op in float32 against the float64 reference.
// Tolerances are stated and justified in package backendtest.

func TestParityMatMul(t *testing.T)         { paritytest.MatMul(t, gputest.Open(t)) }
func TestParityBiasActivate(t *testing.T)   { paritytest.BiasActivate(t, gputest.Open(t)) }
func TestParityActivationGrad(t *testing.T) { paritytest.ActivationGrad(t, gputest.Open(t)) }

// The default tiles load vec4s where the stored rows are whole vec4s (the
// suite's 64³, 128×32×64, … products) and scalars elsewhere; these run the
// same checks with scalar loads everywhere.
var scalarTiles = gpu.Options{Device: gputest.Device(), Matmul: &gpu.MatmulConfig{BM: 64, BN: 64, BK: 16, TM: 4, TN: 4}}

func TestParityMatMulScalarLoads(t *testing.T) {
	paritytest.MatMul(t, gputest.OpenWith(t, scalarTiles))
}
func TestParityMatMulBiasActivateScalarLoads(t *testing.T) {
	paritytest.MatMulBiasActivate(t, gputest.OpenWith(t, scalarTiles))
}
func TestParityMatMulActivationGradScalarLoads(t *testing.T) {
	paritytest.MatMulActivationGrad(t, gputest.OpenWith(t, scalarTiles))
}
func TestParityGatherMatMulBiasActivateScalarLoads(t *testing.T) {
	paritytest.GatherMatMulBiasActivate(t, gputest.OpenWith(t, scalarTiles))
}
func TestParityMatMulColumnSumScalarLoads(t *testing.T) {
	paritytest.MatMulColumnSum(t, gputest.OpenWith(t, scalarTiles))
}

func TestParityMatMulBiasActivate(t *testing.T) {
	paritytest.MatMulBiasActivate(t, gputest.Open(t))
}
func TestParityMatMulActivationGrad(t *testing.T) {
	paritytest.MatMulActivationGrad(t, gputest.Open(t))
}
func TestParityGatherMatMulBiasActivate(t *testing.T) {
	paritytest.GatherMatMulBiasActivate(t, gputest.Open(t))
}
func TestParityMatMulColumnSum(t *testing.T) { paritytest.MatMulColumnSum(t, gputest.Open(t)) }
func TestParityLossGradCount(t *testing.T)   { paritytest.LossGradCount(t, gputest.Open(t)) }
func TestParitySlices(t *testing.T)          { paritytest.Slices(t, gputest.Open(t)) }
func TestParityColumnSum(t *testing.T)       { paritytest.ColumnSum(t, gputest.Open(t)) }
func TestParityLossGrad(t *testing.T)        { paritytest.LossGrad(t, gputest.Open(t)) }
func TestParityCountCorrect(t *testing.T)    { paritytest.CountCorrect(t, gputest.Open(t)) }
func TestParityGather(t *testing.T)          { paritytest.Gather(t, gputest.Open(t)) }
func TestParityFill(t *testing.T)            { paritytest.Fill(t, gputest.Open(t)) }
func TestParityReadAll(t *testing.T)         { paritytest.ReadAll(t, gputest.Open(t)) }
func TestParityOptimizers(t *testing.T)      { paritytest.Optimizers(t, gputest.Open(t)) }
func TestParityViews(t *testing.T)           { paritytest.Views(t, gputest.Open(t)) }
func TestParityTrainingRun(t *testing.T)     { paritytest.TrainingRun(t, gputest.Open(t)) }

// TestParityArrays runs every check on model arrays of 3 and 5 models
// (per-model and shared inputs, per-model index lists).
func TestParityArrays(t *testing.T) { paritytest.Arrays(t, gputest.Open(t)) }
