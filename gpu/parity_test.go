package gpu_test

import (
	"testing"

	"github.com/gputrain/gputrain/conformance/conformancetest"
	"github.com/gputrain/gputrain/gpu"
	"github.com/gputrain/gputrain/gpu/gputest"
)

// The parity suite: every GPU op in float32 against the float64 reference.
// Tolerances are stated and justified in package conformance.

func TestParityMatMul(t *testing.T)         { conformancetest.MatMul(t, gputest.Open(t)) }
func TestParityBiasActivate(t *testing.T)   { conformancetest.BiasActivate(t, gputest.Open(t)) }
func TestParityActivationGrad(t *testing.T) { conformancetest.ActivationGrad(t, gputest.Open(t)) }

// The default tiles load vec4s where the stored rows are whole vec4s (the
// suite's 64³, 128×32×64, … products) and scalars elsewhere; these run the
// same checks with scalar loads everywhere.
var scalarTiles = gpu.Options{Device: gputest.Device(), Matmul: &gpu.MatmulConfig{BM: 64, BN: 64, BK: 16, TM: 4, TN: 4}}

func TestParityMatMulScalarLoads(t *testing.T) {
	conformancetest.MatMul(t, gputest.OpenWith(t, scalarTiles))
}
func TestParityMatMulBiasActivateScalarLoads(t *testing.T) {
	conformancetest.MatMulBiasActivate(t, gputest.OpenWith(t, scalarTiles))
}
func TestParityMatMulActivationGradScalarLoads(t *testing.T) {
	conformancetest.MatMulActivationGrad(t, gputest.OpenWith(t, scalarTiles))
}
func TestParityGatherMatMulBiasActivateScalarLoads(t *testing.T) {
	conformancetest.GatherMatMulBiasActivate(t, gputest.OpenWith(t, scalarTiles))
}
func TestParityMatMulColumnSumScalarLoads(t *testing.T) {
	conformancetest.MatMulColumnSum(t, gputest.OpenWith(t, scalarTiles))
}

func TestParityMatMulBiasActivate(t *testing.T) {
	conformancetest.MatMulBiasActivate(t, gputest.Open(t))
}
func TestParityMatMulActivationGrad(t *testing.T) {
	conformancetest.MatMulActivationGrad(t, gputest.Open(t))
}
func TestParityGatherMatMulBiasActivate(t *testing.T) {
	conformancetest.GatherMatMulBiasActivate(t, gputest.Open(t))
}
func TestParityMatMulColumnSum(t *testing.T) { conformancetest.MatMulColumnSum(t, gputest.Open(t)) }
func TestParityLossGradCount(t *testing.T)   { conformancetest.LossGradCount(t, gputest.Open(t)) }
func TestParitySlices(t *testing.T)          { conformancetest.Slices(t, gputest.Open(t)) }
func TestParityColumnSum(t *testing.T)       { conformancetest.ColumnSum(t, gputest.Open(t)) }
func TestParityLossGrad(t *testing.T)        { conformancetest.LossGrad(t, gputest.Open(t)) }
func TestParityCountCorrect(t *testing.T)    { conformancetest.CountCorrect(t, gputest.Open(t)) }
func TestParityGather(t *testing.T)          { conformancetest.Gather(t, gputest.Open(t)) }
func TestParityFill(t *testing.T)            { conformancetest.Fill(t, gputest.Open(t)) }
func TestParityReadAll(t *testing.T)         { conformancetest.ReadAll(t, gputest.Open(t)) }
func TestParityOptimizers(t *testing.T)      { conformancetest.Optimizers(t, gputest.Open(t)) }
func TestParityGradNormSq(t *testing.T)      { conformancetest.GradNormSq(t, gputest.Open(t)) }
func TestParityViews(t *testing.T)           { conformancetest.Views(t, gputest.Open(t)) }
func TestParityTrainingRun(t *testing.T)     { conformancetest.TrainingRun(t, gputest.Open(t)) }
func TestParityDropout(t *testing.T)         { conformancetest.Dropout(t, gputest.Open(t)) }

// TestParityArrays runs every check on model arrays of 3 and 5 models
// (per-model and shared inputs, per-model index lists).
func TestParityArrays(t *testing.T) { conformancetest.Arrays(t, gputest.Open(t)) }

// The direct kernel (_matmul_direct.wgsl, no workgroup memory), which the
// default choice gives small products: the same checks on every product,
// with vec4 loads where they fit and with scalar loads on tiles that are
// not powers of two.
var (
	directTiles       = gpu.Options{Device: gputest.Device(), Matmul: &gpu.MatmulConfig{BM: 32, BN: 64, BK: 4, TM: 8, TN: 8, Vec4: true, Direct: true}}
	directScalarTiles = gpu.Options{Device: gputest.Device(), Matmul: &gpu.MatmulConfig{BM: 16, BN: 12, BK: 4, TM: 4, TN: 4, Direct: true}}
	// The direct kernel with k split over the workgroup (the hardware
	// GPUs' choice for small products): four slices with vec4 loads, and
	// three slices of 2×2 blocks with scalar loads on tiles that are not
	// powers of two.
	splitTiles       = gpu.Options{Device: gputest.Device(), Matmul: &gpu.MatmulConfig{BM: 16, BN: 16, BK: 4, TM: 4, TN: 4, Vec4: true, Direct: true, SplitK: 4}}
	splitScalarTiles = gpu.Options{Device: gputest.Device(), Matmul: &gpu.MatmulConfig{BM: 12, BN: 6, BK: 4, TM: 2, TN: 2, Direct: true, SplitK: 3}}
)

func TestParityDirect(t *testing.T) {
	for name, opts := range map[string]gpu.Options{"vec4": directTiles, "scalar": directScalarTiles, "split": splitTiles, "split-scalar": splitScalarTiles} {
		t.Run(name, func(t *testing.T) {
			t.Run("MatMul", func(t *testing.T) { conformancetest.MatMul(t, gputest.OpenWith(t, opts)) })
			t.Run("MatMulBiasActivate", func(t *testing.T) { conformancetest.MatMulBiasActivate(t, gputest.OpenWith(t, opts)) })
			t.Run("MatMulActivationGrad", func(t *testing.T) { conformancetest.MatMulActivationGrad(t, gputest.OpenWith(t, opts)) })
			t.Run("GatherMatMulBiasActivate", func(t *testing.T) { conformancetest.GatherMatMulBiasActivate(t, gputest.OpenWith(t, opts)) })
			t.Run("MatMulColumnSum", func(t *testing.T) { conformancetest.MatMulColumnSum(t, gputest.OpenWith(t, opts)) })
			t.Run("Arrays", func(t *testing.T) { conformancetest.Arrays(t, gputest.OpenWith(t, opts)) })
		})
	}
}
