package gpu_test

import (
	"testing"

	"github.com/gputrain/gputrain/backend/backendtest"
	"github.com/gputrain/gputrain/gpu"
	"github.com/gputrain/gputrain/gpu/gputest"
)

// The parity suite: every GPU op in float32 against the float64 reference.
// Tolerances are stated and justified in package backendtest.

func TestParityMatMul(t *testing.T)         { backendtest.MatMul(t, gputest.Open(t)) }
func TestParityBiasActivate(t *testing.T)   { backendtest.BiasActivate(t, gputest.Open(t)) }
func TestParityActivationGrad(t *testing.T) { backendtest.ActivationGrad(t, gputest.Open(t)) }

// The default tiles load vec4s where the stored rows are whole vec4s (the
// suite's 64³, 128×32×64, … products) and scalars elsewhere; these run the
// same checks with scalar loads everywhere.
var scalarTiles = gpu.Options{Device: gputest.Device(), Matmul: &gpu.MatmulConfig{BM: 64, BN: 64, BK: 16, TM: 4, TN: 4}}

func TestParityMatMulScalarLoads(t *testing.T) {
	backendtest.MatMul(t, gputest.OpenWith(t, scalarTiles))
}
func TestParityMatMulBiasActivateScalarLoads(t *testing.T) {
	backendtest.MatMulBiasActivate(t, gputest.OpenWith(t, scalarTiles))
}
func TestParityMatMulActivationGradScalarLoads(t *testing.T) {
	backendtest.MatMulActivationGrad(t, gputest.OpenWith(t, scalarTiles))
}
func TestParityGatherMatMulBiasActivateScalarLoads(t *testing.T) {
	backendtest.GatherMatMulBiasActivate(t, gputest.OpenWith(t, scalarTiles))
}
func TestParityMatMulColumnSumScalarLoads(t *testing.T) {
	backendtest.MatMulColumnSum(t, gputest.OpenWith(t, scalarTiles))
}

func TestParityMatMulBiasActivate(t *testing.T) {
	backendtest.MatMulBiasActivate(t, gputest.Open(t))
}
func TestParityMatMulActivationGrad(t *testing.T) {
	backendtest.MatMulActivationGrad(t, gputest.Open(t))
}
func TestParityGatherMatMulBiasActivate(t *testing.T) {
	backendtest.GatherMatMulBiasActivate(t, gputest.Open(t))
}
func TestParityMatMulColumnSum(t *testing.T) { backendtest.MatMulColumnSum(t, gputest.Open(t)) }
func TestParityLossGradCount(t *testing.T)   { backendtest.LossGradCount(t, gputest.Open(t)) }
func TestParitySlices(t *testing.T)          { backendtest.Slices(t, gputest.Open(t)) }
func TestParityColumnSum(t *testing.T)       { backendtest.ColumnSum(t, gputest.Open(t)) }
func TestParityLossGrad(t *testing.T)        { backendtest.LossGrad(t, gputest.Open(t)) }
func TestParityCountCorrect(t *testing.T)    { backendtest.CountCorrect(t, gputest.Open(t)) }
func TestParityGather(t *testing.T)          { backendtest.Gather(t, gputest.Open(t)) }
func TestParityFill(t *testing.T)            { backendtest.Fill(t, gputest.Open(t)) }
func TestParityReadAll(t *testing.T)         { backendtest.ReadAll(t, gputest.Open(t)) }
func TestParityOptimizers(t *testing.T)      { backendtest.Optimizers(t, gputest.Open(t)) }
func TestParityViews(t *testing.T)           { backendtest.Views(t, gputest.Open(t)) }
func TestParityTrainingRun(t *testing.T)     { backendtest.TrainingRun(t, gputest.Open(t)) }
