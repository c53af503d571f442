package conformance

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
)

// newReference returns the backend every candidate is compared against.
func newReference() backend.Backend { return cpuref.New() }

// check is one check of the suite, on a reporter.
type check struct {
	name string
	f    func(reporter, backend.Backend)
}

// checks lists every check of the suite, in the order Run runs them.
var checks = []check{
	{"MatMul", matMul}, {"BiasActivate", biasActivate}, {"ActivationGrad", activationGrad},
	{"MatMulBiasActivate", matMulBiasActivate}, {"MatMulActivationGrad", matMulActivationGrad},
	{"GatherMatMulBiasActivate", gatherMatMulBiasActivate}, {"MatMulColumnSum", matMulColumnSum},
	{"ColumnSum", columnSum}, {"LossGrad", lossGrad}, {"CountCorrect", countCorrect}, {"LossGradCount", lossGradCount},
	{"Gather", gather}, {"Fill", fill}, {"ReadAll", readAll}, {"Optimizers", optimizers}, {"GradNormSq", gradNormSq}, {"Views", views},
	{"Slices", slicesCheck}, {"Dropout", dropout}, {"TrainingRun", trainingRun},
}

// Arrays, which runs the checks above on model arrays, comes last (it is
// added in init, as it refers to checks).
func init() { checks = append(checks, check{"Arrays", arrays}) }

// MatShape is an m×k·k×n product.
type MatShape struct{ M, K, N int }

// MatMulShapes returns the products MatMul checks at size s: 1x1x1, odd
// sizes that are multiples of no tile, exact tile multiples, and (at Full)
// a large product of an MNIST layer's size. All but the large one are kept
// small: GPU tests run on lavapipe, a software adapter doing ~1–2 GFLOP/s.
// Quick runs two of them (see quickMatShape).
func MatMulShapes(s Size) []MatShape {
	shapes := []MatShape{
		{1, 1, 1}, {3, 5, 7}, {37, 129, 65}, {65, 1, 33}, {1, 300, 1},
		{64, 64, 64}, {128, 32, 64}, {256, 16, 128},
	}
	if s >= Full {
		shapes = append(shapes, MatShape{1024, 784, 512})
	}
	return shapes
}

// quickMatShape reports whether a product is one of the Quick run's: an
// odd shape (partial tiles, scalar loads) and one whose rows are whole
// vec4s (the 16-byte-load variant of the shaders).
func quickMatShape(s MatShape) bool { return s == MatShape{37, 129, 65} || s == MatShape{64, 64, 64} }

// matMul checks c = op(a)·op(b) for every shape of MatMulShapes in all four
// transpose combinations, with c holding garbage beforehand (it must be
// overwritten, not accumulated into).
//
// Tolerance: a length-k dot product computed in float32 in any order and
// with or without fused multiply-adds satisfies |ĉ − c| ≤ γ_k·(|A|·|B|)ᵢⱼ
// with γ_k = k·u/(1−k·u) (Higham, Accuracy and Stability of Numerical
// Algorithms, §3.1); (k+2)·u covers γ_k for every k here with room for the
// float64 reference's own error, plus the subnormal floor. The bound is
// worst-case, so it holds for every tiling and summation order; typical
// errors are ~√k·u, so the log shows ratios well below 1.
func matMul(r reporter, b backend.Backend) {
	p := newPair(r, b)
	for si, s := range MatMulShapes(r.size()) {
		if skip(r, quickMatShape(s)) {
			continue
		}
		for ti, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			r.run(fmt.Sprintf("%dx%dx%d/transA=%v/transB=%v", s.M, s.K, s.N, tr[0], tr[1]), func(r reporter) {
				p := p.sub(r)
				rng := newRNG(uint64(100 + 4*si + ti))
				ar, ac, br, bc := s.M, s.K, s.K, s.N
				if tr[0] {
					ar, ac = ac, ar
				}
				if tr[1] {
					br, bc = bc, br
				}
				av, bv := uniform(rng, ar*ac, -1, 1), uniform(rng, br*bc, -1, 1)
				ac1, _ := p.tensor(ar, ac, av)
				bc1, _ := p.tensor(br, bc, bv)
				cc, _ := p.tensor(s.M, s.N, nil)
				p.cand.Fill(cc, 7)
				p.cand.MatMul(cc, ac1, bc1, tr[0], tr[1])
				got, err := p.cand.ReadFloats(cc)
				if err != nil {
					r.Fatalf("candidate ReadFloats: %v", err)
				}
				want, bound := p.productBound(av, bv, ar, ac, br, bc, s.M, s.K, s.N, tr[0], tr[1])
				assertClose(r, got, want, func(i int) float64 { return bound[i] }, "matmul")
				for _, x := range []backend.Tensor{ac1, bc1, cc} {
					p.cand.Free(x)
				}
			})
		}
	}
}

var activations = []backend.Activation{backend.Identity, backend.Sigmoid, backend.ReLU, backend.Tanh}

// zcap caps |z| in the activation bounds. The WGSL exp bound (3+2|x| ULP)
// grows with |x|, but beyond |z| = 12 sigmoid and tanh are within u of
// their limits 0 and ±1 and a correct (saturating) kernel returns the
// limit; a kernel that overflows there (inf/inf = NaN) fails regardless.
const zcap = 12

// activationBound returns the bound on act(z) in float32, where z = y+b
// is formed by one float32 addition and want = act(z) exactly:
//
//   - identity, relu: the addition rounds once: u·|want|.
//   - sigmoid: relative error of the output, from the rounded input
//     (σ'/σ = 1−σ ≤ 1, so u·|z|), exp (3+2|z| ULP ≤ (6+4|z|)·u), 1+e (u),
//     the division (2.5 ULP = 5u) and one spare u:
//     (13 + 5|z|)·u·σ. Relative, so sigmoid deep in the left tail is
//     checked as tightly as near ½.
//   - tanh: WGSL's tanh is inherited from sinh/cosh, i.e. from two exps,
//     whose errors are relative to cosh, so near 0 the error is absolute:
//     2·(6+4|z|)·u from the exps, 5u from the division, u·|z|·sech²z ≤ u
//     from the input, one spare u: (19 + 8|z|)·u absolute.
func activationBound(act backend.Activation, z, want float64) float64 {
	az := math.Min(math.Abs(z), zcap)
	switch act {
	case backend.Sigmoid:
		return (13+5*az)*u*want + tiny
	case backend.Tanh:
		return (19+8*az)*u + tiny
	}
	return u*math.Abs(want) + tiny
}

// biasActivate checks y = act(y + bias) for every activation, on shapes
// that are not multiples of a 256-wide workgroup, with y+bias in [−11, 11]
// (reaching sigmoid and tanh saturation) and ±1000, where exp overflows
// float32: the result must be the limit, not NaN.
//
// Tolerance (derived beside activationBound), with z = y+bias and |z|
// capped at 12 where both functions have saturated: identity and relu
// u·|want| (one rounded addition); sigmoid (13+5|z|)·u·|want|, relative so
// that the far left tail is checked as tightly as σ near ½; tanh
// (19+8|z|)·u absolute, since WGSL's tanh is built from exps whose errors
// are relative to cosh.
func biasActivate(r reporter, b backend.Backend) {
	p := newPair(r, b)
	for ai, act := range activations {
		for si, s := range [][2]int{{1, 1}, {7, 13}, {33, 257}} {
			if skip(r, si == 2) {
				continue
			}
			r.run(fmt.Sprintf("%v/%dx%d", act, s[0], s[1]), func(r reporter) {
				p := p.sub(r)
				rng := newRNG(uint64(200 + 3*ai + si))
				yv := uniform(rng, s[0]*s[1], -10, 10)
				bv := uniform(rng, s[1], -1, 1)
				yv[0] = 1000
				if len(yv) > 1 {
					yv[1] = -1000
				}
				yc, yr := p.tensor(s[0], s[1], yv)
				bc, br := p.tensor(1, s[1], bv)
				p.cand.BiasActivate(yc, bc, act)
				p.ref.BiasActivate(yr, br, act)
				got, want := p.read(yc, yr)
				assertClose(r, got, want, func(i int) float64 {
					return activationBound(act, yv[i]+bv[i%s[1]], want[i])
				}, "bias_act "+act.String())
			})
		}
	}
}

// activationGrad checks d = d ⊙ act'(z) computed from forward outputs y
// (in the range of each activation).
//
// Tolerance: identity and relu multiply by 1 or 0, which is exact. For
// sigmoid and tanh the derivative y(1−y) or 1−y² (or y−y·y) costs at most
// u·y² absolute (the rounding of y² or of y·y) plus u relative, and the
// product with d one more u: u·(|d|·y² + 3|want|).
func activationGrad(r reporter, b backend.Backend) {
	p := newPair(r, b)
	for ai, act := range activations {
		r.run(act.String(), func(r reporter) {
			p := p.sub(r)
			rng := newRNG(uint64(300 + ai))
			const m, n = 19, 41
			yv := activationOutputs(act, rng, m*n)
			dv := uniform(rng, m*n, -2, 2)
			dc, dr := p.tensor(m, n, dv)
			yc, yr := p.tensor(m, n, yv)
			p.cand.ActivationGrad(dc, yc, act)
			p.ref.ActivationGrad(dr, yr, act)
			got, want := p.read(dc, dr)
			bound := exact
			if act == backend.Sigmoid || act == backend.Tanh {
				bound = func(i int) float64 { return u*(math.Abs(dv[i])*yv[i]*yv[i]+3*math.Abs(want[i])) + tiny }
			}
			assertClose(r, got, want, bound, "act_grad "+act.String())
		})
	}
}

// activationOutputs returns n forward outputs of act: in (0, 1) for
// sigmoid, (−1, 1) for tanh, ≥ 0 with exact zeros for relu, and [−3, 3)
// for identity.
func activationOutputs(act backend.Activation, rng *rand.Rand, n int) []float64 {
	switch act {
	case backend.Sigmoid:
		return uniform(rng, n, 0, 1)
	case backend.Tanh:
		return uniform(rng, n, -1, 1)
	case backend.ReLU:
		yv := uniform(rng, n, -3, 3)
		for i := range yv {
			yv[i] = math.Max(yv[i], 0)
		}
		return yv
	}
	return uniform(rng, n, -3, 3)
}

// columnSum checks the bias-gradient reduction on row counts below, at and
// well above a workgroup's size.
//
// Tolerance: a sum of m float32 terms in any order is within
// γ_{m−1}·Σ|x| of the exact sum (Higham §4.2); (m+1)·u·Σ|x| per column.
func columnSum(r reporter, b backend.Backend) {
	p := newPair(r, b)
	for si, s := range [][2]int{{1, 1}, {5, 3}, {256, 4}, {1000, 33}, {4099, 70}} {
		if skip(r, si == 3) {
			continue
		}
		r.run(fmt.Sprintf("%dx%d", s[0], s[1]), func(r reporter) {
			p := p.sub(r)
			rng := newRNG(uint64(400 + si))
			v := uniform(rng, s[0]*s[1], -1, 1)
			sc, sr := p.tensor(s[0], s[1], v)
			dc, dr := p.tensor(1, s[1], nil)
			p.cand.Fill(dc, 7)
			p.cand.ColumnSum(dc, sc)
			p.ref.ColumnSum(dr, sr)
			got, want := p.read(dc, dr)
			absSum := make([]float64, s[1])
			for i, x := range v {
				absSum[i%s[1]] += math.Abs(x)
			}
			assertClose(r, got, want, func(j int) float64 { return float64(s[0]+1)*u*absSum[j] + tiny }, "column_sum")
		})
	}
}
