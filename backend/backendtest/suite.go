package backendtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
)

func newPair(t testing.TB, b backend.Backend) pair {
	ref := cpuref.New()
	t.Cleanup(func() { _ = ref.Close() })
	return pair{t: t, cand: b, ref: ref}
}

// All runs every check of the suite as subtests.
func All(t *testing.T, b backend.Backend) {
	for _, c := range []struct {
		name string
		f    func(*testing.T, backend.Backend)
	}{
		{"MatMul", MatMul}, {"BiasActivate", BiasActivate}, {"ActivationGrad", ActivationGrad},
		{"ColumnSum", ColumnSum}, {"LossGrad", LossGrad}, {"CountCorrect", CountCorrect},
		{"Gather", Gather}, {"Fill", Fill}, {"Optimizers", Optimizers}, {"Views", Views},
		{"TrainingRun", TrainingRun},
	} {
		t.Run(c.name, func(t *testing.T) { c.f(t, b) })
	}
}

// MatShape is an m×k·k×n product.
type MatShape struct{ M, K, N int }

// MatMulShapes are the products MatMul checks: 1x1x1, odd sizes that are
// multiples of no tile, exact tile multiples, and (unless -short) a large
// product of the MNIST layer's size.
func MatMulShapes() []MatShape {
	s := []MatShape{{1, 1, 1}, {3, 5, 7}, {37, 129, 65}, {65, 1, 33}, {1, 300, 1}, {64, 64, 64}, {128, 32, 64}, {256, 16, 128}}
	if !testing.Short() {
		s = append(s, MatShape{1024, 784, 512})
	}
	return s
}

// MatMul checks c = op(a)·op(b) in all four transpose combinations.
//
// Tolerance: for a length-k dot product computed in float32 in any order,
// |ĉ − c| ≤ γ_k Σ|a_ip||b_pj| with γ_k ≈ k·u (Higham, Accuracy and Stability
// of Numerical Algorithms, §3.1); one more u covers the rounding of the
// stored result and one more an fma-or-not difference. The bound is worst-case
// and holds for every tiling and summation order.
func MatMul(t *testing.T, b backend.Backend) {
	p := newPair(t, b)
	rng := newRNG(1)
	for _, s := range MatMulShapes() {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			t.Run(fmt.Sprintf("%dx%dx%d/transA=%v/transB=%v", s.M, s.K, s.N, tr[0], tr[1]), func(t *testing.T) {
				p := p
				p.t = t
				ar, ac, br, bc := s.M, s.K, s.K, s.N
				if tr[0] {
					ar, ac = ac, ar
				}
				if tr[1] {
					br, bc = bc, br
				}
				av := uniform(rng, ar*ac, -1, 1)
				bv := uniform(rng, br*bc, -1, 1)
				ac1, ar1 := p.tensor(ar, ac, av)
				bc1, br1 := p.tensor(br, bc, bv)
				cc, cr := p.tensor(s.M, s.N, nil)
				p.cand.MatMul(cc, ac1, bc1, tr[0], tr[1])
				p.ref.MatMul(cr, ar1, br1, tr[0], tr[1])
				got, want := p.read(cc, cr)
				// |A|·|B| from the reference, for the bound.
				absA, absB := absTensor(p, ar, ac, av), absTensor(p, br, bc, bv)
				mag, _ := p.ref.New(s.M, s.N, backend.Float)
				p.ref.MatMul(mag, absA, absB, tr[0], tr[1])
				mv, _ := p.ref.ReadFloats(mag)
				gamma := float64(s.K+2) * u
				check(t, "matmul", got, want, func(i int) float64 { return gamma*mv[i] + 1e-30 })
				for _, x := range []backend.Tensor{ac1, bc1, cc} {
					p.cand.Free(x)
				}
			})
		}
	}
}

func absTensor(p pair, r, c int, v []float64) backend.Tensor {
	a := make([]float64, len(v))
	for i, x := range v {
		a[i] = math.Abs(x)
	}
	t, _ := p.ref.New(r, c, backend.Float)
	_ = p.ref.WriteFloats(t, a)
	return t
}

var activations = []backend.Activation{backend.Identity, backend.Sigmoid, backend.ReLU, backend.Tanh}

// transcendentalULP bounds float32 exp/tanh on the inputs used here: WGSL
// (and Vulkan) guarantee exp to 3+2|x| ULP; with |x| ≤ 10 that is 23 ULP, and
// 32 ULP leaves room for the division in sigmoid and tanh built from exp.
const transcendentalULP = 32

// elementwise is the bound for a bounded elementwise function whose output
// has magnitude at most max(|want|, 1): 32 ULP of a float32 in [1, 2) is
// 32·2u absolute, scaled by the magnitude.
func elementwise(want []float64) func(int) float64 {
	return func(i int) float64 { return transcendentalULP * 2 * u * math.Max(math.Abs(want[i]), 1) }
}

// BiasActivate checks y = act(y + bias) for every activation, on shapes
// that are not multiples of the 256-wide workgroups, with inputs in [-10, 10]
// (large enough to reach sigmoid and tanh saturation) and ±1000 (overflow
// must not produce NaN).
//
// Tolerance: identity and relu round the sum y+bias once, so u·|result|.
// Sigmoid and tanh round the sum once (u relative; both have slope ≤ 1),
// then the activation is within transcendentalULP; see elementwise.
func BiasActivate(t *testing.T, b backend.Backend) {
	p := newPair(t, b)
	rng := newRNG(2)
	for _, act := range activations {
		for _, s := range [][2]int{{1, 1}, {7, 13}, {33, 257}} {
			t.Run(fmt.Sprintf("%v/%dx%d", act, s[0], s[1]), func(t *testing.T) {
				p := p
				p.t = t
				yv := uniform(rng, s[0]*s[1], -10, 10)
				yv[0] = 1000
				if len(yv) > 1 {
					yv[1] = -1000
				}
				yc, yr := p.tensor(s[0], s[1], yv)
				bc, br := p.tensor(1, s[1], uniform(rng, s[1], -1, 1))
				p.cand.BiasActivate(yc, bc, act)
				p.ref.BiasActivate(yr, br, act)
				got, want := p.read(yc, yr)
				bound := elementwise(want)
				if act == backend.Identity || act == backend.ReLU {
					// One rounded addition and no transcendental: u·|y+b|.
					bound = func(i int) float64 { return u*math.Abs(want[i])*(1+0x1p-40) + 1e-30 } // slack for evaluating the bound in float64
				}
				check(t, "bias_act "+act.String(), got, want, bound)
			})
		}
	}
}

// ActivationGrad checks d = d ⊙ act'(z) from forward outputs y.
//
// Tolerance: the derivative from y is two float32 operations (y(1-y),
// 1-y²) and the product one more, so 4u relative to |d|·max(1,|y|) covers it.
func ActivationGrad(t *testing.T, b backend.Backend) {
	p := newPair(t, b)
	rng := newRNG(3)
	for _, act := range activations {
		t.Run(act.String(), func(t *testing.T) {
			p := p
			p.t = t
			n, m := 19, 41
			var yv []float64
			switch act {
			case backend.Sigmoid:
				yv = uniform(rng, n*m, 0, 1)
			case backend.Tanh:
				yv = uniform(rng, n*m, -1, 1)
			default:
				yv = uniform(rng, n*m, -3, 3)
			}
			dv := uniform(rng, n*m, -2, 2)
			dc, dr := p.tensor(n, m, dv)
			yc, yr := p.tensor(n, m, yv)
			p.cand.ActivationGrad(dc, yc, act)
			p.ref.ActivationGrad(dr, yr, act)
			got, want := p.read(dc, dr)
			check(t, "act_grad "+act.String(), got, want, func(i int) float64 {
				return 4 * u * math.Abs(dv[i]) * math.Max(1, math.Abs(yv[i])) * math.Max(1, math.Abs(yv[i]))
			})
		})
	}
}

// ColumnSum checks the bias-gradient reduction.
//
// Tolerance: a sum of m float32 terms in any order is within γ_{m-1}·Σ|x|
// of the exact sum (Higham §4.2); (m+1)·u·Σ|x| per column.
func ColumnSum(t *testing.T, b backend.Backend) {
	p := newPair(t, b)
	rng := newRNG(4)
	for _, s := range [][2]int{{1, 1}, {5, 3}, {1000, 33}, {4099, 70}} {
		t.Run(fmt.Sprintf("%dx%d", s[0], s[1]), func(t *testing.T) {
			p := p
			p.t = t
			v := uniform(rng, s[0]*s[1], -1, 1)
			sc, sr := p.tensor(s[0], s[1], v)
			dc, dr := p.tensor(1, s[1], nil)
			p.cand.ColumnSum(dc, sc)
			p.ref.ColumnSum(dr, sr)
			got, want := p.read(dc, dr)
			absSum := make([]float64, s[1])
			for i, x := range v {
				absSum[i%s[1]] += math.Abs(x)
			}
			check(t, "column_sum", got, want, func(j int) float64 { return float64(s[0]+1) * u * absSum[j] })
		})
	}
}

type lossCase struct {
	kind       backend.Loss
	rows, cols int
}

func lossInputs(c lossCase) (out, target []float64) {
	r := newRNG(uint64(c.rows*1000 + c.cols + int(c.kind)))
	out = uniform(r, c.rows*c.cols, -6, 6)
	switch c.kind {
	case backend.BinaryCrossEntropy:
		target = make([]float64, c.rows)
		for i := range target {
			target[i] = float64(r.IntN(2))
		}
		out[0] = 80 // far in the tails: the stable form must stay finite
		if c.rows > 1 {
			out[1] = -80
		}
	case backend.SoftmaxCrossEntropy:
		target = make([]float64, c.rows)
		for i := range target {
			target[i] = float64(r.IntN(c.cols))
		}
		out[0] = 60
	case backend.MeanSquaredError:
		target = uniform(r, c.rows*c.cols, -6, 6)
	}
	return out, target
}

// LossGrad checks each loss's gradient and its accumulated sum, including
// logits far in the tails.
//
// Tolerances:
//   - gradient: one row's gradient is (p − t)/B where p (sigmoid or softmax)
//     carries the exp error of transcendentalULP relative to the row's
//     logits' scale (an error δ in the exponent's argument is a relative
//     error δ of p, and the argument z − lse is within ~(|z|+|lse|)·u);
//     so (transcendentalULP + 4·(1+max|z|))·2u/B per element.
//   - sum: m per-row losses, each within (transcendentalULP + C + 4)·2u of
//     its magnitude (log-sum-exp of C terms), summed with γ_m: the bound is
//     (m + C + transcendentalULP + 4)·2u·Σ|l| plus the loss's starting value.
func LossGrad(t *testing.T, b backend.Backend) {
	p := newPair(t, b)
	cases := []lossCase{
		{backend.BinaryCrossEntropy, 1, 1}, {backend.BinaryCrossEntropy, 333, 1},
		{backend.SoftmaxCrossEntropy, 1, 3}, {backend.SoftmaxCrossEntropy, 257, 10},
		{backend.MeanSquaredError, 1, 1}, {backend.MeanSquaredError, 129, 3},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v/%dx%d", c.kind, c.rows, c.cols), func(t *testing.T) {
			p := p
			p.t = t
			ov, tv := lossInputs(c)
			oc, or := p.tensor(c.rows, c.cols, ov)
			tcols := 1
			if c.kind == backend.MeanSquaredError {
				tcols = c.cols
			}
			tc, tr := p.tensor(c.rows, tcols, tv)
			gc, gr := p.tensor(c.rows, c.cols, nil)
			lc, lr := p.tensor(1, 1, []float64{0.5}) // accumulates onto 0.5
			for range 2 {                            // twice: the sum accumulates
				p.cand.LossGrad(lc, gc, oc, tc, c.kind)
				p.ref.LossGrad(lr, gr, or, tr, c.kind)
			}
			got, want := p.read(gc, gr)
			zmax := 0.0
			for _, z := range ov {
				zmax = math.Max(zmax, math.Abs(z))
			}
			if c.kind == backend.MeanSquaredError {
				// grad = 2(p−t)/(B·N): the difference and the scaling are
				// three roundings, 4u relative.
				check(t, "loss gradient", got, want, func(i int) float64 { return 4*u*math.Abs(want[i]) + 1e-30 })
			} else {
				bnd := (transcendentalULP + 4*(1+zmax)) * 2 * u / float64(c.rows)
				check(t, "loss gradient", got, want, func(int) float64 { return bnd })
			}
			lg, lw := p.read(lc, lr)
			if math.IsNaN(lg[0]) || math.IsInf(lg[0], 0) {
				t.Fatalf("loss sum is %v for finite logits", lg[0])
			}
			bnd := float64(2*c.rows+c.cols+transcendentalULP+4) * 2 * u * math.Abs(lw[0])
			check(t, "loss sum", lg, lw, func(int) float64 { return bnd + u })
		})
	}
}

// CountCorrect checks accuracy counting, which must be exact (counts are
// integers far below 2²⁴). Logits are kept away from the decision boundary
// by more than float32 error, so both backends must agree exactly.
func CountCorrect(t *testing.T, b backend.Backend) {
	p := newPair(t, b)
	for _, c := range []lossCase{{backend.BinaryCrossEntropy, 301, 1}, {backend.SoftmaxCrossEntropy, 300, 7}} {
		t.Run(c.kind.String(), func(t *testing.T) {
			p := p
			p.t = t
			ov, tv := lossInputs(c)
			for i := range ov {
				if math.Abs(ov[i]) < 0.01 {
					ov[i] = 0.5
				}
			}
			oc, or := p.tensor(c.rows, c.cols, ov)
			tc, tr := p.tensor(c.rows, 1, tv)
			cc, cr := p.tensor(1, 1, []float64{3})
			p.cand.CountCorrect(cc, oc, tc, c.kind)
			p.ref.CountCorrect(cr, or, tr, c.kind)
			got, want := p.read(cc, cr)
			check(t, "count", got, want, func(int) float64 { return 0.5 }) // exact integers
			if want[0] <= 3 || want[0] >= float64(c.rows+3) {
				t.Fatalf("degenerate test: %v correct of %d", want[0]-3, c.rows)
			}
		})
	}
}

// Gather checks row gathering from float and byte sources with an offset.
//
// Tolerance: one product v·scale rounded once: u relative.
func Gather(t *testing.T, b backend.Backend) {
	p := newPair(t, b)
	rng := newRNG(5)
	const srcRows, cols = 50, 13
	idx := make([]uint32, 40)
	for i := range idx {
		idx[i] = uint32(rng.IntN(srcRows))
	}
	mkIdx := func() (backend.Tensor, backend.Tensor) {
		ic, _ := p.cand.New(len(idx), 1, backend.Index)
		ir, _ := p.ref.New(len(idx), 1, backend.Index)
		_ = p.cand.WriteIndices(ic, idx)
		_ = p.ref.WriteIndices(ir, idx)
		return ic, ir
	}
	t.Run("float", func(t *testing.T) {
		p := p
		p.t = t
		sc, sr := p.tensor(srcRows, cols, uniform(rng, srcRows*cols, -3, 3))
		ic, ir := mkIdx()
		dc, dr := p.tensor(17, cols, nil)
		p.cand.Gather(dc, sc, ic, 11, 0.5)
		p.ref.Gather(dr, sr, ir, 11, 0.5)
		got, want := p.read(dc, dr)
		check(t, "gather float", got, want, func(i int) float64 { return u * math.Abs(want[i]) })
	})
	t.Run("byte", func(t *testing.T) {
		p := p
		p.t = t
		pix := make([]byte, srcRows*cols) // 13 columns: rows straddle 32-bit words
		for i := range pix {
			pix[i] = byte(rng.IntN(256))
		}
		sc, _ := p.cand.New(srcRows, cols, backend.Byte)
		sr, _ := p.ref.New(srcRows, cols, backend.Byte)
		_ = p.cand.WriteBytes(sc, pix)
		_ = p.ref.WriteBytes(sr, pix)
		ic, ir := mkIdx()
		dc, dr := p.tensor(40, cols, nil)
		p.cand.Gather(dc, sc, ic, 0, 1.0/255)
		p.ref.Gather(dr, sr, ir, 0, 1.0/255)
		got, want := p.read(dc, dr)
		// 1/255 is rounded to float32 (u) and the product once more (u).
		check(t, "gather byte", got, want, func(i int) float64 { return 2*u*math.Abs(want[i]) + 1e-30 })
	})
}

// Fill checks that every element is set, exactly (the value is
// float32-representable).
func Fill(t *testing.T, b backend.Backend) {
	p := newPair(t, b)
	for _, n := range [][2]int{{1, 1}, {300, 301}} {
		c, r := p.tensor(n[0], n[1], nil)
		p.cand.Fill(c, -2.25)
		p.ref.Fill(r, -2.25)
		got, want := p.read(c, r)
		check(t, fmt.Sprintf("fill %dx%d", n[0], n[1]), got, want, func(int) float64 { return 1e-300 })
		p.cand.Free(c)
	}
}

// Optimizers checks SGD, momentum and Adam over 20 steps with changing
// gradients.
//
// Tolerance: each step rounds a handful of float32 operations on values of
// magnitude at most |w| + lr·|update|; errors add over the steps (they do
// not grow: each update is a contraction or a translation in w). With S
// steps: S·(8u·|w| + 64u·lr·G) where G bounds the update's magnitude (|g|
// for SGD, |g|/(1−μ) for momentum, ~1 for Adam's normalised step, whose sqrt
// and division add ulps of their own).
func Optimizers(t *testing.T, b backend.Backend) {
	const steps, n = 20, 517
	for _, opt := range []string{"sgd", "momentum", "adam"} {
		t.Run(opt, func(t *testing.T) {
			p := newPair(t, b)
			rng := newRNG(6)
			wv := uniform(rng, n, -1, 1)
			wc, wr := p.tensor(n, 1, wv)
			gc, gr := p.tensor(n, 1, nil)
			mc, mr := p.tensor(n, 1, nil)
			vc, vr := p.tensor(n, 1, nil)
			lr, g := 0.05, 0.0
			for s := 1; s <= steps; s++ {
				gv := uniform(rng, n, -1, 1)
				if err := p.cand.WriteFloats(gc, gv); err != nil {
					t.Fatal(err)
				}
				_ = p.ref.WriteFloats(gr, gv)
				switch opt {
				case "sgd":
					p.cand.SGD(wc, gc, lr)
					p.ref.SGD(wr, gr, lr)
					g = 1
				case "momentum":
					p.cand.Momentum(wc, gc, mc, lr, 0.9)
					p.ref.Momentum(wr, gr, mr, lr, 0.9)
					g = 10
				case "adam":
					p.cand.Adam(wc, gc, mc, vc, lr, 0.9, 0.999, 1e-8, s)
					p.ref.Adam(wr, gr, mr, vr, lr, 0.9, 0.999, 1e-8, s)
					g = 4
				}
			}
			got, want := p.read(wc, wr)
			check(t, opt, got, want, func(i int) float64 {
				return steps * (8*u*(math.Abs(want[i])+1) + 64*u*lr*g)
			})
		})
	}
}

// Views checks that operations on a View touch only its rows and see the
// parent's data: a matmul and a loss on the first rows of larger tensors.
func Views(t *testing.T, b backend.Backend) {
	p := newPair(t, b)
	rng := newRNG(7)
	xv := uniform(rng, 40*6, -1, 1)
	xc, xr := p.tensor(40, 6, xv)
	wc, wr := p.tensor(6, 3, uniform(rng, 18, -1, 1))
	yc, yr := p.tensor(40, 3, nil)
	p.cand.Fill(yc, 7)
	p.ref.Fill(yr, 7)
	xcv, xrv := p.cand.View(xc, 9), p.ref.View(xr, 9)
	ycv, yrv := p.cand.View(yc, 9), p.ref.View(yr, 9)
	p.cand.MatMul(ycv, xcv, wc, false, false)
	p.ref.MatMul(yrv, xrv, wr, false, false)
	got, want := p.read(yc, yr)
	for i := 27; i < len(want); i++ {
		if got[i] != 7 {
			t.Fatalf("row %d outside the view was written: %v", i/3, got[i])
		}
	}
	check(t, "matmul on views", got, want, func(int) float64 { return 8 * u * 6 })
	if v := p.cand.View(xcv, 2); v.Rows() != 2 || v.Cols() != 6 {
		t.Fatalf("view of a view: %dx%d", v.Rows(), v.Cols())
	}
}
