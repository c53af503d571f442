package gpu

import (
	"unsafe"

	"github.com/gputrain/gputrain/backend"
)

// The shaders and their parameters, in one place. Each shader is named once,
// in shaderNames; each shader's uniform block (binding 0, the WGSL struct
// Params) is mirrored by a Go struct below, field for field: WGSL u32 is
// uint32, f32 is float32, and a blank field stands for the shader's _pad
// fields. TestParamsMatchShaders parses every shader's Params and checks the
// names, order, offsets and size of its Go struct against it.
//
// An operation names its shader with an opKernel[P], which ties the shader
// to its params struct P at compile time; dispatching copies P's bytes into
// the dispatch's params slot (no reflection, no allocation).

// shader names one embedded WGSL shader (shaders.Names): an index into
// shaderNames and Backend.variants.
type shader uint8

const (
	shActGrad shader = iota
	shAdam
	shBCE
	shBiasAct
	shColumnSum
	shCountCorrect
	shFill
	shGather
	shGatherMatmulBiasAct
	shGradNormSq
	shMatmul
	shMatmulActGrad
	shMatmulBiasAct
	shMatmulColumnSum
	shMatmulColumnSumShared
	shMomentum
	shMSE
	shSGD
	shSGDCompensated
	shSoftmaxCE
	numShaders
)

// shaderNames are the shaders' file names in package shaders, without
// ".wgsl".
var shaderNames = [numShaders]string{
	shActGrad:               "act_grad",
	shAdam:                  "adam",
	shBCE:                   "bce",
	shBiasAct:               "bias_act",
	shColumnSum:             "column_sum",
	shCountCorrect:          "count_correct",
	shFill:                  "fill",
	shGather:                "gather",
	shGatherMatmulBiasAct:   "gather_matmul_bias_act",
	shGradNormSq:            "grad_norm_sq",
	shMatmul:                "matmul",
	shMatmulActGrad:         "matmul_act_grad",
	shMatmulBiasAct:         "matmul_bias_act",
	shMatmulColumnSum:       "matmul_column_sum",
	shMatmulColumnSumShared: "matmul_column_sum_shared",
	shMomentum:              "momentum",
	shMSE:                   "mse",
	shSGD:                   "sgd",
	shSGDCompensated:        "sgd_compensated",
	shSoftmaxCE:             "softmax_ce",
}

func (s shader) String() string { return shaderNames[s] }

// product reports whether s is one of the tiled products, the shaders built
// on _matmul_core and specialised by a MatmulConfig.
func (s shader) product() bool {
	switch s {
	case shMatmul, shMatmulBiasAct, shMatmulActGrad, shGatherMatmulBiasAct, shMatmulColumnSum, shMatmulColumnSumShared:
		return true
	}
	return false
}

// opKernel is a shader whose uniform block is the Go struct P.
type opKernel[P any] struct{ shader shader }

// The operations' kernels.
var (
	kActGrad               = opKernel[actGradParams]{shActGrad}
	kAdam                  = opKernel[adamParams]{shAdam}
	kBiasAct               = opKernel[biasActParams]{shBiasAct}
	kColumnSum             = opKernel[columnSumParams]{shColumnSum}
	kCountCorrect          = opKernel[countCorrectParams]{shCountCorrect}
	kFill                  = opKernel[fillParams]{shFill}
	kGather                = opKernel[gatherParams]{shGather}
	kGatherMatmulBiasAct   = opKernel[gatherMatmulParams]{shGatherMatmulBiasAct}
	kGradNormSq            = opKernel[gradNormSqParams]{shGradNormSq}
	kMatmul                = opKernel[matmulParams]{shMatmul}
	kMatmulActGrad         = opKernel[matmulActParams]{shMatmulActGrad}
	kMatmulBiasAct         = opKernel[matmulActParams]{shMatmulBiasAct}
	kMatmulColumnSum       = opKernel[matmulParams]{shMatmulColumnSum}
	kMatmulColumnSumShared = opKernel[columnSumSharedParams]{shMatmulColumnSumShared}
	kMomentum              = opKernel[momentumParams]{shMomentum}
	kSGD                   = opKernel[sgdParams]{shSGD}
	kSGDCompensated        = opKernel[sgdCompensatedParams]{shSGDCompensated}
	// kLoss is the loss shader of each loss (all read _loss_io's Params).
	kLoss = [...]opKernel[lossParams]{
		backend.BinaryCrossEntropy:  {shBCE},
		backend.SoftmaxCrossEntropy: {shSoftmaxCE},
		backend.MeanSquaredError:    {shMSE},
	}
)

// productHead starts the Params of every tiled product (_matmul_core reads
// these): op(a) is m×k, op(b) k×n, rowBlock0 is the first BM-row block of
// the dispatch (the host splits very large products), and strideA to
// strideD are the model strides of a, b, c and binding 4 (see modelStride).
type productHead struct {
	m, n, k, rowBlock0                 uint32
	strideA, strideB, strideC, strideD uint32
}

// matmulParams: matmul.wgsl, matmul_column_sum.wgsl.
type matmulParams struct{ productHead }

// columnSumSharedParams: matmul_column_sum_shared.wgsl.
type columnSumSharedParams struct {
	productHead
	baseC, baseD uint32
	_            [2]uint32
}

// dropoutParams are the dropout's fields of a fused product's Params
// (_dropout.wgsl): the threshold of P (0: no dropout), the float32 scale
// 1/(1−P), the seed's halves, the step, the layer and the model word. A
// step's values are
// written into the dispatch's params slot like every other parameter, so a
// new step needs no new pipeline and allocates nothing.
type dropoutParams struct {
	dropThreshold          uint32
	dropScale              float32
	dropSeedLo, dropSeedHi uint32
	dropStep, dropLayer    uint32
	dropModel              uint32
}

// newDropoutParams packs d (checked by backend.CheckDropout).
func newDropoutParams(d backend.Dropout) dropoutParams {
	if !d.On() {
		return dropoutParams{dropScale: 1}
	}
	return dropoutParams{
		dropThreshold: d.Threshold(), dropScale: float32(d.Scale()),
		dropSeedLo: uint32(d.Seed), dropSeedHi: uint32(d.Seed >> 32),
		dropStep: uint32(d.Step), dropLayer: uint32(d.Layer), dropModel: uint32(d.Model),
	}
}

// matmulActParams: _matmul_act_io.wgsl (matmul_bias_act, matmul_act_grad).
type matmulActParams struct {
	productHead
	act uint32
	dropoutParams
}

// gatherMatmulParams: gather_matmul_bias_act.wgsl.
type gatherMatmulParams struct {
	productHead
	act, offset, srcRows, isByte uint32
	scale                        float32
	strideIdx, strideX           uint32
	dropoutParams
	_ [2]uint32
}

// productParams are the params of the tiled products, each starting with
// productHead (see product).
type productParams interface {
	matmulParams | columnSumSharedParams | matmulActParams | gatherMatmulParams
}

// biasActParams: bias_act.wgsl.
type biasActParams struct {
	rows, cols, act     uint32
	strideY, strideBias uint32
	_                   [3]uint32
}

// actGradParams: act_grad.wgsl.
type actGradParams struct {
	n, act           uint32
	strideD, strideY uint32
}

// columnSumParams: column_sum.wgsl.
type columnSumParams struct {
	rows, cols           uint32
	strideDst, strideSrc uint32
}

// lossParams: _loss_io.wgsl (bce, softmax_ce, mse). gather and count are 0
// or 1.
type lossParams struct {
	rows, cols, gather, offset, srcRows, count                              uint32
	strideLoss, strideGrad, strideOut, strideLabels, strideIdx, strideCount uint32
	weighted, strideWeights                                                 uint32
	_                                                                       [2]uint32
}

// countCorrectParams: count_correct.wgsl; kind 0 binary, 1 softmax.
type countCorrectParams struct {
	rows, cols, kind                     uint32
	strideCount, strideOut, strideLabels uint32
	_                                    [2]uint32
}

// gatherParams: gather.wgsl.
type gatherParams struct {
	rows, cols, offset, srcRows, isByte uint32
	scale                               float32
	strideDst, strideSrc, strideIdx     uint32
	_                                   [3]uint32
}

// fillParams: fill.wgsl.
type fillParams struct {
	n       uint32
	value   float32
	strideT uint32
	_       uint32
}

// gradNormSqParams: grad_norm_sq.wgsl; col is the table's column.
type gradNormSqParams struct {
	n, strideHP, strideG, col uint32
}

// sgdParams: sgd.wgsl; hasDecay is 1 when a decay tensor is bound.
type sgdParams struct {
	n, strideW, strideG, strideHP uint32
	strideD, hasDecay             uint32
	_                             [2]uint32
}

// sgdCompensatedParams: sgd_compensated.wgsl; one is 1.
type sgdCompensatedParams struct {
	n                                   uint32
	one                                 float32
	strideW, strideG, strideC, strideHP uint32
	_                                   [2]uint32
}

// momentumParams: momentum.wgsl.
type momentumParams struct {
	n, strideW, strideG, strideV, strideHP uint32
	strideD, hasDecay                      uint32
	_                                      uint32
}

// adamParams: adam.wgsl; step is Adam's step number.
type adamParams struct {
	n, step                                      uint32
	strideW, strideG, strideM, strideV, strideHP uint32
	strideD, hasDecay                            uint32
	_                                            [3]uint32
}

// paramBytes views p as the bytes of a uniform block. Go lays these structs
// out as WGSL does (TestParamsMatchShaders) and in the host's byte order,
// which is WebGPU's little-endian (checked in init).
func paramBytes[P any](p *P) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), unsafe.Sizeof(*p))
}

func init() {
	one := uint32(1)
	if *(*byte)(unsafe.Pointer(&one)) != 1 {
		panic("gpu: the host must be little-endian: shader params are copied as they lie in memory")
	}
}
