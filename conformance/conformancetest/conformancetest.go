// Package conformancetest runs the conformance suite of package
// conformance under go test: one function per check, each taking a
// *testing.T, and All. It imports testing, so only _test files may import
// it (as gonum's blas/testblas): the suite itself, which the gputrain
// binary runs, does not. Each check's cases and the reasoning behind its
// bounds are documented beside it in conformance.
//
//	func TestParityMatMul(t *testing.T) { conformancetest.MatMul(t, open(t)) }
package conformancetest

import (
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/conformance"
)

// tb adapts *testing.T to conformance.T.
type tb struct{ *testing.T }

func (t tb) Run(name string, f func(conformance.T)) {
	t.T.Run(name, func(t *testing.T) { f(tb{t}) })
}

func (tb) Short() bool { return testing.Short() }

// run runs the check named name on b as t's test.
func run(t *testing.T, name string, b backend.Backend) {
	t.Helper()
	conformance.RunCheck(tb{t}, name, b)
}

// All runs every check of the suite on b as subtests of t.
func All(t *testing.T, b backend.Backend) {
	for _, name := range conformance.Checks() {
		t.Run(name, func(t *testing.T) { run(t, name, b) })
	}
}

// MatMul checks c = op(a)·op(b) for every shape of MatMulShapes in all four transpose combinations.
func MatMul(t *testing.T, b backend.Backend) { run(t, "MatMul", b) }

// BiasActivate checks y = act(y + bias) for every activation.
func BiasActivate(t *testing.T, b backend.Backend) { run(t, "BiasActivate", b) }

// ActivationGrad checks d = d ⊙ act'(z) computed from forward outputs.
func ActivationGrad(t *testing.T, b backend.Backend) { run(t, "ActivationGrad", b) }

// MatMulBiasActivate checks the fused forward y = act(x·w + bias).
func MatMulBiasActivate(t *testing.T, b backend.Backend) { run(t, "MatMulBiasActivate", b) }

// MatMulActivationGrad checks the fused backward dz = (g·op(w)) ⊙ act'(z).
func MatMulActivationGrad(t *testing.T, b backend.Backend) { run(t, "MatMulActivationGrad", b) }

// Dropout checks the dropout fused into the layer products: the mask
// exactly, the values within derived bounds.
func Dropout(t *testing.T, b backend.Backend) { run(t, "Dropout", b) }

// GatherMatMulBiasActivate checks the fused gather and forward layer.
func GatherMatMulBiasActivate(t *testing.T, b backend.Backend) { run(t, "GatherMatMulBiasActivate", b) }

// MatMulColumnSum checks the fused weight and bias gradients.
func MatMulColumnSum(t *testing.T, b backend.Backend) { run(t, "MatMulColumnSum", b) }

// ColumnSum checks the bias-gradient reduction.
func ColumnSum(t *testing.T, b backend.Backend) { run(t, "ColumnSum", b) }

// LossGrad checks each loss's gradient and its accumulated sum.
func LossGrad(t *testing.T, b backend.Backend) { run(t, "LossGrad", b) }

// CountCorrect checks accuracy counting, which must be exact.
func CountCorrect(t *testing.T, b backend.Backend) { run(t, "CountCorrect", b) }

// LossGradCount checks the fused loss, gradient and correct count.
func LossGradCount(t *testing.T, b backend.Backend) { run(t, "LossGradCount", b) }

// Gather checks row gathering from Float and Byte sources.
func Gather(t *testing.T, b backend.Backend) { run(t, "Gather", b) }

// Fill checks that every element is set, exactly.
func Fill(t *testing.T, b backend.Backend) { run(t, "Fill", b) }

// ReadAll checks backend.ReadAll.
func ReadAll(t *testing.T, b backend.Backend) { run(t, "ReadAll", b) }

// Optimizers checks SGD, momentum and Adam over 20 steps.
func Optimizers(t *testing.T, b backend.Backend) { run(t, "Optimizers", b) }

// GradNormSq checks the squared gradient norm that clipping reads.
func GradNormSq(t *testing.T, b backend.Backend) { run(t, "GradNormSq", b) }

// Views checks that operations on a View see the parent's first rows.
func Views(t *testing.T, b backend.Backend) { run(t, "Views", b) }

// Slices checks tensors kept in one, as a model keeps its parameters.
func Slices(t *testing.T, b backend.Backend) { run(t, "Slices", b) }

// TrainingRun checks a 20-16-8-1 sigmoid MLP trained for 300 minibatch SGD steps against the reference.
func TrainingRun(t *testing.T, b backend.Backend) { run(t, "TrainingRun", b) }

// Arrays runs every other check on model arrays (N = 3 and 5), comparing
// one model of each operation's outputs under the check's own bounds.
func Arrays(t *testing.T, b backend.Backend) { run(t, "Arrays", b) }
