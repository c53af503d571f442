package gpu

import (
	"fmt"
	"unsafe"

	"github.com/gputrain/gputrain/backend"
)

// One Go function per operation, each dispatching the WGSL file of the same
// name in package shaders. Shapes are checked by the shared rules in package
// backend, so the GPU and the reference panic alike.

// MatmulConfig is one specialisation of the tiled matmul shader: a BM×BN
// output tile per workgroup, BK-deep staging in workgroup memory, TM×TN
// outputs per invocation.
type MatmulConfig struct {
	BM, BN, BK, TM, TN int
	// Vec4 stages the tiles with 16-byte loads (_matmul_load_vec4.wgsl).
	// It applies only to products whose stored operand rows are multiples
	// of 4 elements; others run the same tiles with scalar loads.
	Vec4 bool `json:",omitempty"`
	// Direct computes the BM×BN tile without workgroup memory
	// (_matmul_direct.wgsl): each of the (BM/TM)·(BN/TN) invocations reads
	// its operands straight into registers, four steps of k at a time, and
	// BK is not used. With no barriers the tile can fit a small product's
	// shape (see directConfig).
	Direct bool `json:",omitempty"`
	// SplitK, with Direct, splits k over SplitK invocations per output
	// block (_matmul_splitk.wgsl): each sums every SplitK-th step of four k
	// and the partial sums meet in workgroup memory. A hardware GPU's
	// small products are bound by the latency of k dependent loads, not by
	// arithmetic; this shortens the chain and multiplies the invocations.
	// 0 and 1 mean no split.
	SplitK int `json:",omitempty"`
}

// DefaultMatmul is the tile configuration used unless another is chosen:
// 64×64 tiles, 16-deep, 4×4 outputs per invocation (256 invocations, 8 KiB
// of workgroup memory), vec4 loads where the operands allow them (on
// lavapipe 11 % faster than scalar loads on 512³, equal on 1024×784×128).
var DefaultMatmul = MatmulConfig{BM: 64, BN: 64, BK: 16, TM: 4, TN: 4, Vec4: true}

func (c MatmulConfig) String() string {
	s := fmt.Sprintf("%dx%dx%d/%dx%d", c.BM, c.BN, c.BK, c.TM, c.TN)
	if c.Direct {
		s = fmt.Sprintf("direct %dx%d/%dx%d", c.BM, c.BN, c.TM, c.TN)
	}
	if c.split() {
		s += fmt.Sprintf("/k÷%d", c.SplitK)
	}
	if c.Vec4 {
		s += "/vec4"
	}
	return s
}

// split reports whether the configuration splits k (see SplitK).
func (c MatmulConfig) split() bool { return c.Direct && c.SplitK > 1 }

// vec4Fits reports whether an m×k·k×n product with these transposes can
// use vec4 loads: the stored rows of both operands (a is m×k, or k×m if
// transA; b is k×n, or n×k if transB) are whole vec4s.
func vec4Fits(m, k, n int, transA, transB bool) bool {
	ra, rb := k, n
	if transA {
		ra = m
	}
	if transB {
		rb = k
	}
	return ra%4 == 0 && rb%4 == 0
}

// forShape returns c, without Vec4 where the product cannot use it.
func (c MatmulConfig) forShape(m, k, n int, transA, transB bool) MatmulConfig {
	if c.Vec4 && !vec4Fits(m, k, n, transA, transB) {
		c.Vec4 = false
	}
	return c
}

// forStrides returns c, without Vec4 where the model stride of an operand
// loaded four elements at a time (a and b, or the gathered src) is not a
// whole number of vec4s.
func (c MatmulConfig) forStrides(a, b *Tensor) MatmulConfig {
	if c.Vec4 && (modelStride(a)%4 != 0 || modelStride(b)%4 != 0) {
		c.Vec4 = false
	}
	return c
}

// valid reports whether the configuration fits the adapter.
func (c MatmulConfig) valid(l Limits) error {
	if c.BM%c.TM != 0 || c.BN%c.TN != 0 || c.BM <= 0 || c.BN <= 0 || c.BK <= 0 {
		return fmt.Errorf("matmul config %v: tile not divisible by outputs per thread", c)
	}
	if c.Direct && c.Vec4 && (c.TM%4 != 0 || c.TN%4 != 0) {
		return fmt.Errorf("matmul config %v: direct vec4 loads need TM and TN multiples of 4", c)
	}
	if !c.Direct && c.Vec4 && (c.BM%4 != 0 || c.BN%4 != 0 || c.BK%4 != 0) {
		return fmt.Errorf("matmul config %v: vec4 loads need tile sides that are multiples of 4", c)
	}
	if c.SplitK < 0 || (c.SplitK > 1 && !c.Direct) {
		return fmt.Errorf("matmul config %v: SplitK needs the direct kernel", c)
	}
	threads := (c.BM / c.TM) * (c.BN / c.TN) * max(c.SplitK, 1)
	if c.split() && uint32(c.SplitK) > l.MaxComputeWorkgroupSizeZ {
		return fmt.Errorf("matmul config %v: %d slices of k exceed the adapter's workgroup depth %d", c, c.SplitK, l.MaxComputeWorkgroupSizeZ)
	}
	if uint32(threads) > l.MaxComputeInvocationsPerWorkgroup {
		return fmt.Errorf("matmul config %v: %d invocations exceed the adapter's %d", c, threads, l.MaxComputeInvocationsPerWorkgroup)
	}
	if c.split() {
		if mem := 4 * c.SplitK * (c.BM*c.BN + c.BN); uint32(mem) > l.MaxComputeWorkgroupStorageSize {
			return fmt.Errorf("matmul config %v: %d bytes of workgroup memory exceed the adapter's %d", c, mem, l.MaxComputeWorkgroupStorageSize)
		}
		return nil
	}
	if c.Direct {
		return nil // no workgroup memory
	}
	// Workgroup memory is not validated by the driver here, so check it.
	if mem := 4 * c.BK * (c.BM + c.BN); uint32(mem) > l.MaxComputeWorkgroupStorageSize {
		return fmt.Errorf("matmul config %v: %d bytes of workgroup memory exceed the adapter's %d", c, mem, l.MaxComputeWorkgroupStorageSize)
	}
	return nil
}

func (c MatmulConfig) consts(transA, transB bool) map[string]string {
	load, ab, aw, core := "f32", "f32", "1", "core"
	if c.Vec4 {
		load, ab, aw = "vec4", "vec4<f32>", "4"
	}
	if c.Direct {
		load, core = "direct_"+load, "direct"
	}
	if c.split() {
		core = "splitk"
	}
	return map[string]string{
		"S": fmt.Sprint(max(c.SplitK, 1)), "PART": fmt.Sprint(max(c.SplitK, 1) * c.BM * c.BN), "CPART": fmt.Sprint(max(c.SplitK, 1) * c.BN),
		"LOAD": load, "AB": ab, "AW": aw, "CORE": core,
		"TM4": fmt.Sprint(4 * c.TM), "TN4": fmt.Sprint(4 * c.TN),
		"BM": fmt.Sprint(c.BM), "BN": fmt.Sprint(c.BN), "BK": fmt.Sprint(c.BK),
		"TM": fmt.Sprint(c.TM), "TN": fmt.Sprint(c.TN),
		"TRANS_A": fmt.Sprint(transA), "TRANS_B": fmt.Sprint(transB),
		"TX": fmt.Sprint(c.BN / c.TN), "TY": fmt.Sprint(c.BM / c.TM), "SUM_B": "false",
		"BK_BM": fmt.Sprint(c.BK * c.BM), "BK_BN": fmt.Sprint(c.BK * c.BN), "TM_TN": fmt.Sprint(c.TM * c.TN),
	}
}

// MatMul sets c = op(a)·op(b) with the tiled matmul shader, for every
// model at once (the grid's z dimension).
func (b *Backend) MatMul(c, a, bt backend.Tensor, transA, transB bool) {
	m, k, n := backend.CheckMatMul(c, a, bt, transA, transB)
	b.mu.Lock()
	defer b.mu.Unlock()
	tc, ta, tb := b.tensor(c, "MatMul"), b.tensor(a, "MatMul"), b.tensor(bt, "MatMul")
	b.matmul(b.matmulConfig(m, k, n, transA, transB, tc.models), tc, ta, tb, m, k, n, transA, transB)
}

// maxDispatchMACs bounds the multiply-adds of one matmul dispatch. A
// driver's watchdog may reset a device whose single dispatch runs for
// seconds, so larger products are split into several dispatches over blocks
// of rows (2³¹ multiply-adds take well under a second on a GPU, a few
// seconds on a software rasteriser, which has no watchdog).
var maxDispatchMACs = int64(1) << 31

func (b *Backend) matmul(cfg MatmulConfig, c, a, bt *Tensor, m, k, n int, transA, transB bool) {
	p := matmulParams{productHead{strideA: modelStride(a), strideB: modelStride(bt), strideC: modelStride(c)}}
	product(b, kMatmul, cfg.forShape(m, k, n, transA, transB).forStrides(a, bt), m, k, n, transA, transB, c.models, &p, a, bt, c)
}

// product dispatches one of the tiled-product shaders (those that share
// _matmul_core, shader.product) with the tile configuration cfg, which must
// already suit the shape and strides (see MatmulConfig.forShape and
// forStrides), for models models. It sets p's m, n, k and each dispatch's
// first row block; the caller sets the rest (the model strides among
// them). ts are the shader's storage bindings in order.
func product[P productParams](b *Backend, op opKernel[P], cfg MatmulConfig, m, k, n int, transA, transB bool, models int, p *P, ts ...*Tensor) {
	gx := uint32((n + cfg.BN - 1) / cfg.BN)
	blocks := (m + cfg.BM - 1) / cfg.BM
	perBlock := int64(cfg.BM) * int64(n) * int64(max(k, 1)) * int64(models)
	chunk := int(max(maxDispatchMACs/perBlock, 1))
	key := kernelKey{shader: op.shader, cfg: cfg, transA: transA, transB: transB}
	// Every productParams starts with productHead (TestParamsMatchShaders).
	h := (*productHead)(unsafe.Pointer(p))
	h.m, h.n, h.k = uint32(m), uint32(n), uint32(k)
	for b0 := 0; b0 < blocks; b0 += chunk {
		gy := uint32(min(chunk, blocks-b0))
		h.rowBlock0 = uint32(b0)
		b.dispatch(key, paramBytes(p), gx, gy, uint32(models), ts...)
	}
}

// MatMulBiasActivate sets y = act(x·w + bias) in one dispatch: the matmul
// shader's tiles with the bias and activation applied as each output is
// stored (matmul_bias_act.wgsl), and the dropout's mask after the
// activation (_dropout.wgsl).
func (b *Backend) MatMulBiasActivate(y, x, w, bias backend.Tensor, act backend.Activation, drop backend.Dropout) {
	m, k, n := backend.CheckMatMulBiasActivate(y, x, w, bias, act, drop)
	b.mu.Lock()
	defer b.mu.Unlock()
	ty, tx, tw, tb := b.tensor(y, "MatMulBiasActivate"), b.tensor(x, "MatMulBiasActivate"), b.tensor(w, "MatMulBiasActivate"), b.tensor(bias, "MatMulBiasActivate")
	cfg := b.matmulConfig(m, k, n, false, false, ty.models).forShape(m, k, n, false, false).forStrides(tx, tw)
	p := matmulActParams{productHead: productHead{strideA: modelStride(tx), strideB: modelStride(tw), strideC: modelStride(ty), strideD: modelStride(tb)}, act: uint32(act), dropoutParams: newDropoutParams(drop)}
	product(b, kMatmulBiasAct, cfg, m, k, n, false, false, ty.models, &p, tx, tw, ty, tb)
}

// GatherMatMulBiasActivate gathers x and sets y = act(x·w + bias) in one
// dispatch (gather_matmul_bias_act.wgsl): the tiles of x are gathered from
// src as they are staged, with the gather shader's arithmetic, and the
// first column of workgroups stores them in x. With vec4 loads (k and n
// multiples of 4) a row's four consecutive elements are gathered at once.
// The dropout is applied as MatMulBiasActivate applies it.
func (b *Backend) GatherMatMulBiasActivate(x, src, idx backend.Tensor, offset int, scale float64, y, w, bias backend.Tensor, act backend.Activation, drop backend.Dropout) {
	const op = "GatherMatMulBiasActivate"
	m, k, n := backend.CheckGatherMatMulBiasActivate(x, src, idx, offset, y, w, bias, act, drop)
	b.mu.Lock()
	defer b.mu.Unlock()
	tx, ts, ti := b.tensor(x, op), b.tensor(src, op), b.tensor(idx, op)
	ty, tw, tb := b.tensor(y, op), b.tensor(w, op), b.tensor(bias, op)
	cfg := b.matmulConfig(m, k, n, false, false, ty.models).forShape(m, k, n, false, false).forStrides(ts, tw)
	p := gatherMatmulParams{
		productHead: productHead{strideA: modelStride(ts), strideB: modelStride(tw), strideC: modelStride(ty), strideD: modelStride(tb)},
		act:         uint32(act), offset: uint32(offset), srcRows: uint32(ts.rows), isByte: isByte(ts), scale: float32(scale),
		strideIdx: modelStride(ti), strideX: modelStride(tx), dropoutParams: newDropoutParams(drop),
	}
	product(b, kGatherMatmulBiasAct, cfg, m, k, n, false, false, ty.models, &p, ts, tw, ty, tb, ti, tx)
}

// MatMulActivationGrad sets dz = (g·op(w)) ⊙ act'(z) in one dispatch, the
// derivative taken from y as each output is stored (matmul_act_grad.wgsl),
// through the dropout's mask, drawn again, when drop is on.
func (b *Backend) MatMulActivationGrad(dz, g, w, y backend.Tensor, transW bool, act backend.Activation, drop backend.Dropout) {
	m, k, n := backend.CheckMatMulActivationGrad(dz, g, w, y, transW, act, drop)
	b.mu.Lock()
	defer b.mu.Unlock()
	tz, tg, tw, ty := b.tensor(dz, "MatMulActivationGrad"), b.tensor(g, "MatMulActivationGrad"), b.tensor(w, "MatMulActivationGrad"), b.tensor(y, "MatMulActivationGrad")
	cfg := b.matmulConfig(m, k, n, false, transW, tz.models).forShape(m, k, n, false, transW).forStrides(tg, tw)
	p := matmulActParams{productHead: productHead{strideA: modelStride(tg), strideB: modelStride(tw), strideC: modelStride(tz), strideD: modelStride(ty)}, act: uint32(act), dropoutParams: newDropoutParams(drop)}
	product(b, kMatmulActGrad, cfg, m, k, n, false, transW, tz.models, &p, tg, tw, tz, ty)
}

// MatMulColumnSum sets dw = xᵀ·dy and db to the column sums of dy in one
// dispatch (matmul_column_sum.wgsl): the product xᵀ·dy, whose first row of
// workgroups also sums the columns of the dy tiles it stages.
func (b *Backend) MatMulColumnSum(dw, db, x, dy backend.Tensor) {
	const op = "MatMulColumnSum"
	m, k, n := backend.CheckMatMulColumnSum(dw, db, x, dy)
	b.mu.Lock()
	defer b.mu.Unlock()
	tw, tb, tx, ty := b.tensor(dw, op), b.tensor(db, op), b.tensor(x, op), b.tensor(dy, op)
	// The product is k×m·m×n with xᵀ stored m×k (transA).
	cfg := b.matmulConfig(k, m, n, true, false, tw.models).forShape(k, m, n, true, false).forStrides(tx, ty)
	head := productHead{strideA: modelStride(tx), strideB: modelStride(ty), strideC: modelStride(tw), strideD: modelStride(tb)}
	if tw.buf == tb.buf {
		// Slices of one buffer (a model array's gradients): one binding
		// over both (matmul_column_sum_shared.wgsl).
		base := min(tw.off, tb.off)
		end := max(tw.off+tw.bindSize(), tb.off+tb.bindSize())
		both := &Tensor{b: b, buf: tw.buf, off: base, rows: 1, cols: int((end - base) / 4), models: 1, dtype: backend.Float, view: true}
		p := columnSumSharedParams{productHead: head, baseC: uint32((tw.off - base) / 4), baseD: uint32((tb.off - base) / 4)}
		product(b, kMatmulColumnSumShared, cfg, k, m, n, true, false, tw.models, &p, tx, ty, both)
		return
	}
	p := matmulParams{head}
	product(b, kMatmulColumnSum, cfg, k, m, n, true, false, tw.models, &p, tx, ty, tw, tb)
}

// BiasActivate sets y = act(y + bias) in place.
func (b *Backend) BiasActivate(y, bias backend.Tensor, act backend.Activation) {
	backend.CheckBiasActivate(y, bias, act)
	b.mu.Lock()
	defer b.mu.Unlock()
	ty, tb := b.tensor(y, "BiasActivate"), b.tensor(bias, "BiasActivate")
	p := biasActParams{rows: uint32(ty.rows), cols: uint32(ty.cols), act: uint32(act), strideY: modelStride(ty), strideBias: modelStride(tb)}
	run(b, kBiasAct, &p, groups1D(ty.len()), 1, uint32(ty.models), ty, tb)
}

// ActivationGrad sets d = d ⊙ act'(z), computed from the output y.
func (b *Backend) ActivationGrad(d, y backend.Tensor, act backend.Activation) {
	backend.CheckActivationGrad(d, y, act)
	b.mu.Lock()
	defer b.mu.Unlock()
	td, ty := b.tensor(d, "ActivationGrad"), b.tensor(y, "ActivationGrad")
	p := actGradParams{n: uint32(td.len()), act: uint32(act), strideD: modelStride(td), strideY: modelStride(ty)}
	run(b, kActGrad, &p, groups1D(td.len()), 1, uint32(td.models), td, ty)
}

// ColumnSum sets the 1×n dst to the sum of the rows of src.
func (b *Backend) ColumnSum(dst, src backend.Tensor) {
	backend.CheckColumnSum(dst, src)
	b.mu.Lock()
	defer b.mu.Unlock()
	td, ts := b.tensor(dst, "ColumnSum"), b.tensor(src, "ColumnSum")
	p := columnSumParams{rows: uint32(ts.rows), cols: uint32(ts.cols), strideDst: modelStride(td), strideSrc: modelStride(ts)}
	run(b, kColumnSum, &p, uint32((ts.cols+31)/32), 1, uint32(td.models), td, ts)
}

// LossGrad evaluates the loss and its gradient in one workgroup a model.
func (b *Backend) LossGrad(loss, grad, out, target backend.Tensor, kind backend.Loss) {
	backend.CheckLossGrad(loss, grad, out, target, kind)
	b.mu.Lock()
	defer b.mu.Unlock()
	tl, tg := b.tensor(loss, "LossGrad"), b.tensor(grad, "LossGrad")
	to, tt := b.tensor(out, "LossGrad"), b.tensor(target, "LossGrad")
	b.loss(kind, tl, nil, tg, to, tt, nil, 0, nil)
}

// LossGradCount evaluates the loss, its gradient and the correct count in
// one workgroup a model, with the targets read through idx.
func (b *Backend) LossGradCount(loss, count, grad, out, target, idx backend.Tensor, offset int, kind backend.Loss, weights backend.Tensor) {
	const op = "LossGradCount"
	backend.CheckLossGradCount(loss, count, grad, out, target, idx, offset, kind, weights)
	b.mu.Lock()
	defer b.mu.Unlock()
	tl, tg := b.tensor(loss, op), b.tensor(grad, op)
	to, tt := b.tensor(out, op), b.tensor(target, op)
	var tc, ti *Tensor
	if count != nil {
		tc = b.tensor(count, op)
	}
	if idx != nil {
		ti = b.tensor(idx, op)
	}
	var tw *Tensor
	if weights != nil {
		tw = b.tensor(weights, op)
	}
	b.loss(kind, tl, tc, tg, to, tt, ti, offset, tw)
}

// loss dispatches the loss shader of kind (see _loss_io.wgsl). Without
// count, idx or weights the shader leaves those bindings alone: target is
// bound there instead of idx, out instead of weights, and the backend's
// spare word instead of count (count is written, and WebGPU forbids two
// writable bindings of one buffer in a dispatch: Dawn rejects it,
// wgpu-native let it pass).
func (b *Backend) loss(kind backend.Loss, loss, count, grad, out, target, idx *Tensor, offset int, weights *Tensor) {
	p := lossParams{rows: uint32(out.rows), cols: uint32(out.cols),
		strideLoss: modelStride(loss), strideGrad: modelStride(grad), strideOut: modelStride(out), strideLabels: modelStride(target)}
	if idx != nil {
		p.gather, p.offset, p.srcRows, p.strideIdx = 1, uint32(offset), uint32(target.rows), modelStride(idx)
	} else {
		idx = target
	}
	if count != nil {
		p.count, p.strideCount = 1, modelStride(count)
	} else if count = b.spareWord(); count == nil {
		return // b.fail has the error
	}
	if weights != nil {
		p.weighted, p.strideWeights = 1, modelStride(weights)
	} else {
		weights = out
	}
	run(b, kLoss[kind], &p, 1, 1, uint32(grad.models), loss, grad, out, target, idx, count, weights)
}

// CountCorrect adds the number of correctly predicted rows to count.
func (b *Backend) CountCorrect(count, out, target backend.Tensor, kind backend.Loss) {
	backend.CheckCountCorrect(count, out, target, kind)
	b.mu.Lock()
	defer b.mu.Unlock()
	tc, to, tt := b.tensor(count, "CountCorrect"), b.tensor(out, "CountCorrect"), b.tensor(target, "CountCorrect")
	k := uint32(0)
	if kind == backend.SoftmaxCrossEntropy {
		k = 1
	}
	p := countCorrectParams{rows: uint32(to.rows), cols: uint32(to.cols), kind: k,
		strideCount: modelStride(tc), strideOut: modelStride(to), strideLabels: modelStride(tt)}
	run(b, kCountCorrect, &p, 1, 1, uint32(tc.models), tc, to, tt)
}

// isByte is 1 for a Byte tensor, 0 otherwise: the gather shaders' isByte.
func isByte(t *Tensor) uint32 {
	if t.dtype == backend.Byte {
		return 1
	}
	return 0
}

// Gather copies scaled rows of src picked by idx into dst.
func (b *Backend) Gather(dst, src, idx backend.Tensor, offset int, scale float64) {
	backend.CheckGather(dst, src, idx, offset)
	b.mu.Lock()
	defer b.mu.Unlock()
	td, ts, ti := b.tensor(dst, "Gather"), b.tensor(src, "Gather"), b.tensor(idx, "Gather")
	p := gatherParams{rows: uint32(td.rows), cols: uint32(td.cols), offset: uint32(offset), srcRows: uint32(ts.rows), isByte: isByte(ts), scale: float32(scale),
		strideDst: modelStride(td), strideSrc: modelStride(ts), strideIdx: modelStride(ti)}
	run(b, kGather, &p, groups1D(td.len()), 1, uint32(td.models), td, ts, ti)
}

// Fill sets every element of t to v.
func (b *Backend) Fill(t backend.Tensor, v float64) {
	backend.CheckSame("Fill", t)
	b.mu.Lock()
	defer b.mu.Unlock()
	tt := b.tensor(t, "Fill")
	p := fillParams{n: uint32(tt.len()), value: float32(v), strideT: modelStride(tt)}
	run(b, kFill, &p, groups1D(tt.len()), 1, uint32(tt.models), tt)
}

// GradNormSq sets hp[HPGradNormSq] of each model to Σ g²: one dispatch,
// one workgroup per model.
func (b *Backend) GradNormSq(hp, g backend.Tensor) {
	backend.CheckGradNormSq(hp, g)
	b.mu.Lock()
	defer b.mu.Unlock()
	th, tg := b.tensor(hp, "GradNormSq"), b.tensor(g, "GradNormSq")
	p := gradNormSqParams{n: uint32(tg.len()), strideHP: modelStride(th), strideG: modelStride(tg), col: backend.HPGradNormSq}
	run(b, kGradNormSq, &p, 1, 1, uint32(th.models), th, tg)
}

// decayBinding returns the tensor bound as an optimizer's decay, its
// stride and the shader's hasDecay: decay itself, or g (which the dispatch
// reads anyway) with hasDecay 0 when decay is nil.
func (b *Backend) decayBinding(decay backend.Tensor, g *Tensor, op string) (*Tensor, uint32, uint32) {
	if decay == nil {
		return g, 0, 0
	}
	td := b.tensor(decay, op)
	return td, modelStride(td), 1
}

// SGD sets w -= lr·g', lr and the L2 decay from hp.
func (b *Backend) SGD(w, g, hp, decay backend.Tensor) {
	backend.CheckOptimizer("SGD", backend.SGDHPCols, w, g, hp, decay)
	b.mu.Lock()
	defer b.mu.Unlock()
	tw, tg, th := b.tensor(w, "SGD"), b.tensor(g, "SGD"), b.tensor(hp, "SGD")
	td, sd, has := b.decayBinding(decay, tg, "SGD")
	p := sgdParams{n: uint32(tw.len()), strideW: modelStride(tw), strideG: modelStride(tg), strideHP: modelStride(th),
		strideD: sd, hasDecay: has}
	run(b, kSGD, &p, groups1D(tw.len()), 1, uint32(tw.models), tw, tg, th, td)
}

// SGDCompensated sets w -= lr·g' with Kahan compensation carried in c, lr
// and the L2 decay from hp.
func (b *Backend) SGDCompensated(w, g, c, hp backend.Tensor) {
	const op = "SGDCompensated"
	backend.CheckOptimizer(op, backend.SGDHPCols, w, g, hp, nil, c)
	b.mu.Lock()
	defer b.mu.Unlock()
	tw, tg, tc, th := b.tensor(w, op), b.tensor(g, op), b.tensor(c, op), b.tensor(hp, op)
	p := sgdCompensatedParams{n: uint32(tw.len()), one: 1,
		strideW: modelStride(tw), strideG: modelStride(tg), strideC: modelStride(tc), strideHP: modelStride(th)}
	run(b, kSGDCompensated, &p, groups1D(tw.len()), 1, uint32(tw.models), tw, tg, tc, th)
}

// Momentum sets v = mu·v + g', then w -= lr·v, lr, mu and the L2 decay
// from hp.
func (b *Backend) Momentum(w, g, v, hp, decay backend.Tensor) {
	backend.CheckOptimizer("Momentum", backend.MomentumHPCols, w, g, hp, decay, v)
	b.mu.Lock()
	defer b.mu.Unlock()
	tw, tg, tv, th := b.tensor(w, "Momentum"), b.tensor(g, "Momentum"), b.tensor(v, "Momentum"), b.tensor(hp, "Momentum")
	td, sd, has := b.decayBinding(decay, tg, "Momentum")
	p := momentumParams{n: uint32(tw.len()), strideW: modelStride(tw), strideG: modelStride(tg), strideV: modelStride(tv), strideHP: modelStride(th),
		strideD: sd, hasDecay: has}
	run(b, kMomentum, &p, groups1D(tw.len()), 1, uint32(tw.models), tw, tg, tv, th, td)
}

// Adam applies one Adam update with the hyperparameters of hp (the L2 and
// decoupled decays among them); the shader computes each model's bias
// corrections from its β1 and β2 (see adam.wgsl's correction).
func (b *Backend) Adam(w, g, m, v, hp, decay backend.Tensor, step int) {
	backend.CheckAdam(w, g, m, v, hp, decay, step)
	b.mu.Lock()
	defer b.mu.Unlock()
	tw, tg, tm, tv, th := b.tensor(w, "Adam"), b.tensor(g, "Adam"), b.tensor(m, "Adam"), b.tensor(v, "Adam"), b.tensor(hp, "Adam")
	td, sd, has := b.decayBinding(decay, tg, "Adam")
	p := adamParams{n: uint32(tw.len()), step: uint32(step),
		strideW: modelStride(tw), strideG: modelStride(tg), strideM: modelStride(tm), strideV: modelStride(tv), strideHP: modelStride(th),
		strideD: sd, hasDecay: has}
	run(b, kAdam, &p, groups1D(tw.len()), 1, uint32(tw.models), tw, tg, tm, tv, th, td)
}
