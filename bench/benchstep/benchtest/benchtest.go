// Package benchtest holds the bodies of the go test benchmarks of packages
// gpu and cpuref, shared so that both backends run identical work. It
// imports testing, so only _test files may import it (as gonum's testblas):
// the gputrain binary must not link package testing (.ci/run checks).
package benchtest

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/bench/benchstep"
	"github.com/gputrain/gputrain/nn"
)

// Each benchmark body records b.N operations and syncs once at the end (after one synced
// warm-up), so a GPU benchmark measures dispatch throughput rather than one
// submit-and-wait per operation.

// LargeSizes reports whether GPUTRAIN_BENCH_LARGE=1 asks for square matmuls
// above 1024, which take minutes on a software adapter or the CPU reference.
func LargeSizes() bool { return os.Getenv("GPUTRAIN_BENCH_LARGE") == "1" }

// elemBytes is the size of one Float element on be.
func elemBytes(be backend.Backend) float64 {
	if be.Info().Precision == "float32" {
		return 4
	}
	return 8
}

func newFilled(b *testing.B, be backend.Backend, r, c int, seed uint64, lo, hi float64) backend.Tensor {
	b.Helper()
	t, err := be.New(r, c, backend.Float)
	if err != nil {
		b.Skipf("cannot allocate %dx%d: %v", r, c, err)
	}
	rng := benchstep.NewRNG(seed)
	v := make([]float64, r*c)
	for i := range v {
		v[i] = lo + (hi-lo)*rng.Float64()
	}
	if err := be.WriteFloats(t, v); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { be.Free(t) })
	return t
}

// newHP returns a hyperparameter table holding row (see backend.NewHP),
// freed when b ends.
func newHP(b *testing.B, be backend.Backend, row []float64) backend.Tensor {
	b.Helper()
	t, err := backend.NewHP(be, 1, row)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { be.Free(t) })
	return t
}

// run times op: one synced warm-up, then b.N recordings and one Sync (or
// one per benchstep.MaxSyncSeconds of work, which only very slow operations on a
// software adapter reach; see RunChunked). Where be is a benchstep.KernelTimer that
// measures, it also reports the GPU kernel time per op ("kernel-us/op")
// and returns it in seconds; else it returns 0. Where be is a benchstep.Recorder,
// the first benchstep.HostSteps ops after every sync are also timed on the host
// (benchstep.HostTime: recorded on an idle device and submitted, waits excluded),
// and it reports "host-us/op", "dispatches/op" and "host-us/dispatch".
func run(b *testing.B, be backend.Backend, op func()) (kernelSeconds float64) {
	b.Helper()
	op()
	if err := be.Sync(); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	op()
	if err := be.Sync(); err != nil {
		b.Fatal(err)
	}
	perSync := benchstep.PerSync(time.Since(start).Seconds())
	kt, timed := be.(benchstep.KernelTimer)
	if timed {
		kt.ResetKernelTime()
	}
	rec, deferred := be.(benchstep.Recorder)
	var host time.Duration
	var hostOps int
	var dispatches uint64
	b.ResetTimer()
	for i := 0; i < b.N; {
		chunk := min(perSync, b.N-i)
		done := 0
		if deferred {
			done = min(chunk, benchstep.HostSteps)
			d, n, err := benchstep.HostTime(rec, done, op)
			if err != nil {
				b.Fatal(err)
			}
			host += d
			hostOps += done
			dispatches += n
		}
		for range chunk - done {
			op()
		}
		i += chunk
		if i < b.N {
			if err := be.Sync(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := be.Sync(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if timed {
		if d, ok := kt.KernelTime(); ok && b.N > 0 {
			kernelSeconds = d.Seconds() / float64(b.N)
			b.ReportMetric(kernelSeconds*1e6, "kernel-us/op")
		}
	}
	if hostOps > 0 {
		b.ReportMetric(host.Seconds()*1e6/float64(hostOps), "host-us/op")
		b.ReportMetric(float64(dispatches)/float64(hostOps), "dispatches/op")
		if dispatches > 0 {
			b.ReportMetric(host.Seconds()*1e6/float64(dispatches), "host-us/dispatch")
		}
	}
	return kernelSeconds
}

func perSecond(b *testing.B, amount float64) float64 {
	return amount * float64(b.N) / b.Elapsed().Seconds()
}

// BenchMatMul times c = op(a)·op(b) for an m×k·k×n product and reports
// GFLOP/s (2·m·k·n per product).
func BenchMatMul(b *testing.B, be backend.Backend, m, k, n int, transA, transB bool) {
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	x := newFilled(b, be, ar, ac, 1, -1, 1)
	y := newFilled(b, be, br, bc, 2, -1, 1)
	z := newFilled(b, be, m, n, 3, 0, 0)
	ks := run(b, be, func() { be.MatMul(z, x, y, transA, transB) })
	flops := 2 * float64(m) * float64(k) * float64(n)
	b.ReportMetric(perSecond(b, flops)/1e9, "GFLOP/s")
	if ks > 0 {
		b.ReportMetric(flops/ks/1e9, "kernel-GFLOP/s")
	}
}

// MatMulShape is a named matmul of the benchmark MLP.
type MatMulShape struct {
	Name           string
	M, K, N        int
	TransA, TransB bool
}

// MLPSpec is the benchmark MLP, 784-128-64-10 sigmoid with softmax
// cross-entropy, lr 0.01, with optimizer opt.
func MLPSpec(opt nn.Optimizer) benchstep.Spec {
	return benchstep.Spec{Model: nn.Spec{Inputs: 784, Hidden: []int{128, 64}, Outputs: 10, Activation: backend.Sigmoid,
		Head: nn.SoftmaxHead}, Optimizer: opt, LR: 0.01}
}

// MLPShapes are the matmuls of one training step of the 784-128-64-10
// network at batch: forward X·W, weight gradients Xᵀ·G (transposed A) and
// input gradients G·Wᵀ (transposed B).
func MLPShapes(batch int) []MatMulShape {
	sizes := []int{784, 128, 64, 10}
	var out []MatMulShape
	for i := 0; i+1 < len(sizes); i++ {
		in, o := sizes[i], sizes[i+1]
		out = append(out,
			MatMulShape{fmt.Sprintf("fwd_%dx%dx%d", batch, in, o), batch, in, o, false, false},
			MatMulShape{fmt.Sprintf("dW_%dx%dx%d_tA", in, batch, o), in, batch, o, true, false})
		if i > 0 {
			out = append(out, MatMulShape{fmt.Sprintf("dX_%dx%dx%d_tB", batch, o, in), batch, o, in, false, true})
		}
	}
	return out
}

// BenchMatMuls runs the square sizes 256…4096 (above 1024 only with
// GPUTRAIN_BENCH_LARGE=1) and the MLP's own shapes at batches 64 and 512.
func BenchMatMuls(b *testing.B, be backend.Backend) {
	for _, s := range []int{256, 512, 1024, 2048, 4096} {
		b.Run(fmt.Sprintf("square_%d", s), func(b *testing.B) {
			if s > 1024 && !LargeSizes() {
				b.Skipf("square %d skipped: slow on a software adapter or the CPU reference; set GPUTRAIN_BENCH_LARGE=1 to run it", s)
			}
			BenchMatMul(b, be, s, s, s, false, false)
		})
	}
	for _, batch := range []int{64, 512} {
		for _, sh := range MLPShapes(batch) {
			b.Run("mlp_"+sh.Name, func(b *testing.B) { BenchMatMul(b, be, sh.M, sh.K, sh.N, sh.TransA, sh.TransB) })
		}
	}
}

// BenchElementwise times BiasActivate (sigmoid, 512×128), SGD and Adam on
// the 784×128 weights, ColumnSum of 8192×128 and the softmax loss of
// 8192×10, reporting GB/s of tensor traffic (elements read plus written,
// at the backend's precision).
func BenchElementwise(b *testing.B, be backend.Backend) {
	b.Run("bias_act_sigmoid_512x128", func(b *testing.B) {
		y, bias := newFilled(b, be, 512, 128, 1, -1, 1), newFilled(b, be, 1, 128, 2, -1, 1)
		run(b, be, func() { be.BiasActivate(y, bias, backend.Sigmoid) })
		b.ReportMetric(perSecond(b, (2*512*128+128)*elemBytes(be))/1e9, "GB/s")
	})
	b.Run("sgd_784x128", func(b *testing.B) {
		w, g := newFilled(b, be, 784, 128, 1, -1, 1), newFilled(b, be, 784, 128, 2, -1e-3, 1e-3)
		hp := newHP(b, be, backend.SGDHP(1e-3))
		run(b, be, func() { be.SGD(w, g, hp, nil) })
		b.ReportMetric(perSecond(b, 3*784*128*elemBytes(be))/1e9, "GB/s")
	})
	b.Run("adam_784x128", func(b *testing.B) {
		w, g := newFilled(b, be, 784, 128, 1, -1, 1), newFilled(b, be, 784, 128, 2, -1e-3, 1e-3)
		m, v := newFilled(b, be, 784, 128, 3, 0, 0), newFilled(b, be, 784, 128, 4, 0, 0)
		hp := newHP(b, be, backend.AdamHP(1e-3, 0.9, 0.999, 1e-8))
		step := 0
		run(b, be, func() { step++; be.Adam(w, g, m, v, hp, nil, step) })
		b.ReportMetric(perSecond(b, 7*784*128*elemBytes(be))/1e9, "GB/s")
	})
	b.Run("column_sum_8192x128", func(b *testing.B) {
		src, dst := newFilled(b, be, 8192, 128, 1, -1, 1), newFilled(b, be, 1, 128, 2, 0, 0)
		run(b, be, func() { be.ColumnSum(dst, src) })
		b.ReportMetric(perSecond(b, (8192*128+128)*elemBytes(be))/1e9, "GB/s")
	})
	b.Run("loss_softmax_ce_8192x10", func(b *testing.B) {
		out, grad := newFilled(b, be, 8192, 10, 1, -3, 3), newFilled(b, be, 8192, 10, 2, 0, 0)
		loss := newFilled(b, be, 1, 1, 3, 0, 0)
		target := newFilled(b, be, 8192, 1, 4, 0, 0)
		cls := make([]float64, 8192)
		for i := range cls {
			cls[i] = float64(i % 10)
		}
		if err := be.WriteFloats(target, cls); err != nil {
			b.Fatal(err)
		}
		run(b, be, func() { be.LossGrad(loss, grad, out, target, backend.SoftmaxCrossEntropy) })
		b.ReportMetric(perSecond(b, (2*8192*10+8192)*elemBytes(be))/1e9, "GB/s")
	})
}

// BenchTrainStep times whole training steps of the 784-128-64-10 sigmoid
// MLP (softmax cross-entropy, SGD) at batches 64 and 512, and the seed
// preset's full-batch step, reporting GFLOP/s (matmul work, see
// benchstep.Spec.FLOPsPerSample) and samples/s: nn's training step
// (nn.Trainer), as gputrain bench times it.
func BenchTrainStep(b *testing.B, be backend.Backend) {
	spec := MLPSpec(nn.SGD)
	d := benchstep.RandomData(4096, 784, 10, 7)
	for _, batch := range []int{64, 512} {
		b.Run(fmt.Sprintf("mlp_784-128-64-10_batch_%d", batch), func(b *testing.B) {
			trainStep(b, be, spec, d, batch)
		})
	}
	b.Run("seed_64-128-128-1_full_360", func(b *testing.B) {
		trainStep(b, be, benchstep.SeedSpec(), benchstep.SeedData(), benchstep.SeedRows)
	})
}

func trainStep(b *testing.B, be backend.Backend, spec benchstep.Spec, d *nn.Set, batch int) {
	m, err := benchstep.New(be, spec, d, batch, 1)
	if err != nil {
		b.Skipf("cannot set up batch %d: %v", batch, err)
	}
	b.Cleanup(m.Free)
	run(b, be, m.Step)
	b.ReportMetric(perSecond(b, m.FLOPsPerStep())/1e9, "GFLOP/s")
	b.ReportMetric(perSecond(b, float64(m.Batch())), "samples/s")
}

// BenchFusions times each fused operation of the training step against the
// operations it replaces, on the shapes of a 784-128-64-10 step at batch 64
// (byte pixels gathered from a 4096-row set): the gather and the first
// layer, each layer's weight and bias gradients, the target gather with the
// loss and the count, and the update of the six parameter tensors one by one
// against one update over a tensor that holds them all (backend.Pack). On a
// GPU, "kernel-us/op" of the pairs shows what the fusions do to the
// device's time, apart from the dispatches they save on the host.
func BenchFusions(b *testing.B, be backend.Backend) {
	const batch, rows = 64, 4096
	sizes := []int{784, 128, 64, 10}
	f := func(b *testing.B, r, c int) backend.Tensor { return newFilled(b, be, r, c, uint64(r*c), -0.1, 0.1) }
	data := func(b *testing.B) (src, idx backend.Tensor) {
		d := benchstep.RandomData(rows, sizes[0], 10, 3)
		src, err := be.New(rows, sizes[0], backend.Byte)
		if err != nil {
			b.Skipf("cannot allocate the data set: %v", err)
		}
		b.Cleanup(func() { be.Free(src) })
		if err := be.WriteBytes(src, d.Pixels); err != nil {
			b.Fatal(err)
		}
		idx, err = be.New(batch, 1, backend.Index)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { be.Free(idx) })
		order := make([]uint32, batch)
		for i := range order {
			order[i] = uint32(i * 61 % rows)
		}
		if err := be.WriteIndices(idx, order); err != nil {
			b.Fatal(err)
		}
		return src, idx
	}
	b.Run("first_layer/gather_then_matmul_bias_act", func(b *testing.B) {
		src, idx := data(b)
		x, y, w, bias := f(b, batch, 784), f(b, batch, 128), f(b, 784, 128), f(b, 1, 128)
		run(b, be, func() {
			be.Gather(x, src, idx, 0, 1.0/255)
			be.MatMulBiasActivate(y, x, w, bias, backend.Sigmoid, backend.Dropout{})
		})
	})
	b.Run("first_layer/gather_matmul_bias_act", func(b *testing.B) {
		src, idx := data(b)
		x, y, w, bias := f(b, batch, 784), f(b, batch, 128), f(b, 784, 128), f(b, 1, 128)
		run(b, be, func() {
			be.GatherMatMulBiasActivate(x, src, idx, 0, 1.0/255, y, w, bias, backend.Sigmoid, backend.Dropout{})
		})
	})
	for i := 0; i+1 < len(sizes); i++ {
		in, out := sizes[i], sizes[i+1]
		shape := fmt.Sprintf("%dx%dx%d", in, batch, out)
		b.Run("weight_bias_grads_"+shape+"/matmul_then_column_sum", func(b *testing.B) {
			x, dy, dw, db := f(b, batch, in), f(b, batch, out), f(b, in, out), f(b, 1, out)
			run(b, be, func() {
				be.MatMul(dw, x, dy, true, false)
				be.ColumnSum(db, dy)
			})
		})
		b.Run("weight_bias_grads_"+shape+"/matmul_column_sum", func(b *testing.B) {
			x, dy, dw, db := f(b, batch, in), f(b, batch, out), f(b, in, out), f(b, 1, out)
			run(b, be, func() { be.MatMulColumnSum(dw, db, x, dy) })
		})
	}
	labels := func(b *testing.B) backend.Tensor {
		t := f(b, rows, 1)
		cls := make([]float64, rows)
		for i := range cls {
			cls[i] = float64(i % 10)
		}
		if err := be.WriteFloats(t, cls); err != nil {
			b.Fatal(err)
		}
		return t
	}
	b.Run("loss/gather_then_loss_grad_then_count", func(b *testing.B) {
		_, idx := data(b)
		all, t, out, grad, loss, count := labels(b), f(b, batch, 1), f(b, batch, 10), f(b, batch, 10), f(b, 1, 1), f(b, 1, 1)
		run(b, be, func() {
			be.Gather(t, all, idx, 0, 1)
			be.LossGrad(loss, grad, out, t, backend.SoftmaxCrossEntropy)
			be.CountCorrect(count, out, t, backend.SoftmaxCrossEntropy)
		})
	})
	b.Run("loss/loss_grad_count", func(b *testing.B) {
		_, idx := data(b)
		all, out, grad, loss, count := labels(b), f(b, batch, 10), f(b, batch, 10), f(b, 1, 1), f(b, 1, 1)
		run(b, be, func() { be.LossGradCount(loss, count, grad, out, all, idx, 0, backend.SoftmaxCrossEntropy, nil) })
	})
	var counts []int
	for i := 0; i+1 < len(sizes); i++ {
		counts = append(counts, sizes[i]*sizes[i+1], sizes[i+1])
	}
	b.Run("update/sgd_per_tensor", func(b *testing.B) {
		var ws, gs []backend.Tensor
		for _, n := range counts {
			ws, gs = append(ws, f(b, n, 1)), append(gs, f(b, n, 1))
		}
		hp := newHP(b, be, backend.SGDHP(1e-3))
		run(b, be, func() {
			for i := range ws {
				be.SGD(ws[i], gs[i], hp, nil)
			}
		})
	})
	b.Run("update/sgd_all_at_once", func(b *testing.B) {
		_, total := backend.Pack(counts...)
		w, g := f(b, total, 1), f(b, total, 1)
		hp := newHP(b, be, backend.SGDHP(1e-3))
		run(b, be, func() { be.SGD(w, g, hp, nil) })
	})
}
