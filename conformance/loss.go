package conformance

import (
	"fmt"
	"math"
	"slices"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
)

type lossCase struct {
	kind       backend.Loss
	rows, cols int
}

// lossInputs returns logits in [−6, 6] with a few far in the tails, and
// targets for kind.
func lossInputs(c lossCase, seed uint64) (out, target []float64) {
	rng := newRNG(seed)
	out = uniform(rng, c.rows*c.cols, -6, 6)
	switch c.kind {
	case backend.BinaryCrossEntropy:
		target = make([]float64, c.rows)
		for i := range target {
			target[i] = float64(rng.IntN(2))
		}
		out[0] = 80 // far in the tails: the stable form must stay finite
		if c.rows > 1 {
			out[1] = -80
		}
	case backend.SoftmaxCrossEntropy:
		target = make([]float64, c.rows)
		for i := range target {
			target[i] = float64(rng.IntN(c.cols))
		}
		out[0] = 60 // exp(60) overflows float32: the max must be subtracted
	case backend.MeanSquaredError:
		target = uniform(rng, c.rows*c.cols, -6, 6)
	}
	return out, target
}

// lossBounds returns the bound on each gradient element and on the sum of
// the per-row losses, for one LossGrad call on float32-exact inputs (see
// LossGrad for the derivation).
func lossBounds(c lossCase, out, target []float64) (grad []float64, sum float64) {
	B, C := float64(c.rows), float64(c.cols)
	grad = make([]float64, len(out))
	for i := range c.rows {
		z := out[i*c.cols : (i+1)*c.cols]
		switch c.kind {
		case backend.BinaryCrossEntropy:
			zi, t := z[0], target[i]
			p := cpuref.Sigmoid(zi)
			grad[i] = ((13+5*math.Min(math.Abs(zi), zcap))*u*p+7*u*math.Abs(p-t))/B + tiny
			sum += (16 + 2*cpuref.BCE(zi, t)) * u
		case backend.SoftmaxCrossEntropy:
			R := 0.0
			for _, v := range z {
				R = math.Max(R, math.Abs(v))
			}
			lse := cpuref.LogSumExp(z)
			cls := int(target[i])
			eps := (20 + C + 7*math.Log(C) + 10*R) * u
			for j, v := range z {
				p := math.Exp(v - lse)
				onehot := 0.0
				if j == cls {
					onehot = 1
				}
				grad[i*c.cols+j] = (eps*p+7*u*math.Abs(p-onehot))/B + tiny
			}
			sum += (16 + C + 11*R + 7*math.Log(C) + 2*(lse-z[cls])) * u
		case backend.MeanSquaredError:
			l := 0.0
			for j, v := range z {
				e := v - target[i*c.cols+j]
				l += e * e / C
				grad[i*c.cols+j] = 8*u*math.Abs(2*e/(B*C)) + tiny
			}
			sum += (C + 8) * u * l
		}
	}
	return grad, sum
}

// lossCases are the losses and shapes LossGrad and LossGradCount check:
// one row and an odd number of rows of each loss.
var lossCases = []lossCase{
	{backend.BinaryCrossEntropy, 1, 1}, {backend.BinaryCrossEntropy, 333, 1},
	{backend.SoftmaxCrossEntropy, 1, 3}, {backend.SoftmaxCrossEntropy, 257, 10},
	{backend.MeanSquaredError, 1, 1}, {backend.MeanSquaredError, 129, 3},
}

// lossGrad checks each loss's gradient and its accumulated sum (two calls
// onto a loss that starts at 0.5), including logits far in the tails.
//
// Tolerances, from the WGSL accuracy rules (see the package comment):
//
//   - bce gradient (σ(z)−t)/B: σ within (13+5|z|)·u relative (see
//     activationBound), the subtraction and the scaling by 1/B (a division,
//     2.5 ULP, or a rounded reciprocal and a product) within 7u of the
//     result.
//   - softmax gradient (p−onehot)/B: with R the row's largest |z|, every
//     exp argument z−max or z−lse lies within 2R+ln C and carries an
//     absolute error of ≤ 2(R+ln C)·u, exp adds (6+8R)·u, the sum of C
//     terms (C−1)·u, log 8u absolute, the division 5u: p is within
//     (20 + C + 7 ln C + 10R)·u relative; then 7u as for bce.
//   - mse gradient 2(p−t)/(B·N): the difference and the scaling, 8u relative.
//   - row losses: bce max(z,0)−z·t is exact for t ∈ {0,1}, log(1+e)
//     costs 8u + u absolute and the exp's error reaches it damped by
//     e/(1+e): ≤ 6u; the final addition u·l: (16 + 2l)·u. Softmax
//     lse − z[c]: (16 + C + 11R + 7 ln C + 2l)·u by the same steps. Mse: a
//     sum of N squares, (N+8)·u·l.
//   - sum: twice each row's bound (two calls) plus the γ_{B+2}·|sum| of
//     adding 2B+1 nonnegative terms in any order.
func lossGrad(r reporter, b backend.Backend) {
	p := newPair(r, b)
	for ci, c := range lossCases {
		if skip(r, c.rows > 1) {
			continue
		}
		r.run(fmt.Sprintf("%v/%dx%d", c.kind, c.rows, c.cols), func(r reporter) {
			p := p.sub(r)
			ov, tv := lossInputs(c, uint64(500+ci))
			oc, or := p.tensor(c.rows, c.cols, ov)
			tc, tr := p.tensor(c.rows, len(tv)/c.rows, tv)
			gc, gr := p.tensor(c.rows, c.cols, nil)
			lc, lr := p.tensor(1, 1, []float64{0.5})
			for range 2 {
				p.cand.LossGrad(lc, gc, oc, tc, c.kind)
				p.ref.LossGrad(lr, gr, or, tr, c.kind)
			}
			got, want := p.read(gc, gr)
			gb, sb := lossBounds(c, ov, tv)
			assertClose(r, got, want, func(i int) float64 { return gb[i] }, "loss gradient")
			lg, lw := p.read(lc, lr)
			assertClose(r, lg, lw, func(int) float64 { return 2*sb + float64(c.rows+2)*u*lw[0] + tiny }, "loss sum")
		})
	}
}

// countCorrect checks accuracy counting, which must be exact: it only
// compares the float32-exact inputs, so there is no rounding at all. The
// inputs include the edge cases of the rule: bce logits of exactly 0
// (predicting class 0) and softmax rows whose largest logit is tied (the
// first one wins). The count starts at 3 to check that it accumulates.
func countCorrect(r reporter, b backend.Backend) {
	p := newPair(r, b)
	for ci, c := range []lossCase{{backend.BinaryCrossEntropy, 301, 1}, {backend.SoftmaxCrossEntropy, 300, 7}} {
		r.run(c.kind.String(), func(r reporter) {
			p := p.sub(r)
			ov, tv := lossInputs(c, uint64(600+ci))
			for i := 0; i < c.rows; i += 10 {
				row := ov[i*c.cols : (i+1)*c.cols]
				if c.kind == backend.BinaryCrossEntropy {
					row[0] = 0
					continue
				}
				row[1], row[4] = 9, 9 // a tie for the largest: class 1 wins
				tv[i] = float64(1 + 3*(i/10%2))
			}
			oc, or := p.tensor(c.rows, c.cols, ov)
			tc, tr := p.tensor(c.rows, 1, tv)
			cc, cr := p.tensor(1, 1, []float64{3})
			p.cand.CountCorrect(cc, oc, tc, c.kind)
			p.ref.CountCorrect(cr, or, tr, c.kind)
			got, want := p.read(cc, cr)
			assertClose(r, got, want, exact, "count")
			if want[0] <= 3+float64(c.rows)/10 || want[0] >= float64(c.rows+3) {
				r.Fatalf("degenerate test: %v correct of %d", want[0]-3, c.rows)
			}
		})
	}
}

// lossGradCount checks the fused loss, gradient and correct count of every
// loss, with the targets gathered through an index list at an offset (the
// first and the last target rows among them) and read directly, and with
// and without the count (always without for mse, which has none). Two calls
// accumulate onto a loss that starts at 0.5 and a count that starts at 3.
// Softmax rows whose largest logit is tied check the count's rule (the
// first one wins).
//
// Tolerance: the gradient and the loss sum as LossGrad's, of the rows'
// gathered targets; the count exactly, as CountCorrect's.
//
// With class weights (multiples of 1/4 in [0.5, 3], exact in float32)
// each row's loss and gradient are multiplied by its class's weight w: the
// unweighted bounds scale by the largest weight, and the product adds a
// rounding, u relative to each weighted value (the loss sum: u per row).
func lossGradCount(r reporter, b backend.Backend) {
	p := newPair(r, b)
	const offset, extra = 5, 17 // extra target rows that no index picks
	for ci, c := range lossCases {
		for _, gathered := range []bool{false, true} {
			for _, variant := range []struct{ counted, weighted bool }{{false, false}, {true, false}, {true, true}} {
				counted, weighted := variant.counted, variant.weighted
				if (counted || weighted) && c.kind == backend.MeanSquaredError {
					continue
				}
				name := fmt.Sprintf("%v/%dx%d/gather=%v/count=%v", c.kind, c.rows, c.cols, gathered, counted)
				if weighted {
					name += "/weighted"
				}
				r.run(name, func(r reporter) {
					p := p.sub(r)
					seed := uint64(1500 + 4*ci)
					ov, tv := lossInputs(c, seed)
					tcols := len(tv) / c.rows
					if c.kind == backend.SoftmaxCrossEntropy {
						for i := 0; i < c.rows; i += 10 {
							row := ov[i*c.cols : (i+1)*c.cols]
							row[1], row[c.cols-1] = 9, 9 // a tie: class 1 wins
							tv[i] = float64(1 + (c.cols-2)*(i/10%2))
						}
					}
					oc, or := p.tensor(c.rows, c.cols, ov)
					gc, gr := p.tensor(c.rows, c.cols, nil)
					lc, lr := p.tensor(1, 1, []float64{0.5})
					var cc, cr backend.Tensor
					if counted {
						cc, cr = p.tensor(1, 1, []float64{3})
					}
					var tc, tr, ic, ir backend.Tensor
					off := 0
					if gathered {
						// Distinct rows of a larger target, so that each
						// output row's target is tv's row.
						srcRows := c.rows + extra
						perm := newRNG(seed + 1).Perm(srcRows)
						for i, want := range []int{srcRows - 1, 0} {
							at := offset + i*(c.rows-1)
							j := slices.Index(perm, want)
							perm[at], perm[j] = perm[j], perm[at]
						}
						idx := make([]uint32, offset+c.rows+2)
						src := make([]float64, srcRows*tcols)
						for i := range src {
							src[i] = tv[i%len(tv)] // rows no index picks hold something valid
						}
						for i := range idx {
							idx[i] = uint32(perm[i])
						}
						for i := range c.rows {
							copy(src[perm[offset+i]*tcols:], tv[i*tcols:(i+1)*tcols])
						}
						tc, tr = p.tensor(srcRows, tcols, src)
						ic, ir = p.indices(idx)
						off = offset
					} else {
						tc, tr = p.tensor(c.rows, tcols, tv)
					}
					var wc, wr backend.Tensor
					wmax := 1.0
					if weighted {
						classes := c.cols
						if c.kind == backend.BinaryCrossEntropy {
							classes = 2
						}
						wv := uniform(newRNG(seed+2), classes, 0.5, 3)
						for i := range wv {
							wv[i] = math.Round(4*wv[i]) / 4
							wmax = max(wmax, wv[i])
						}
						wc, wr = p.tensor(1, classes, wv)
					}
					for range 2 {
						p.cand.LossGradCount(lc, cc, gc, oc, tc, ic, off, c.kind, wc)
						p.ref.LossGradCount(lr, cr, gr, or, tr, ir, off, c.kind, wr)
					}
					got, want := p.read(gc, gr)
					gb, sb := lossBounds(c, ov, tv)
					assertClose(r, got, want, func(i int) float64 { return wmax*gb[i] + u*math.Abs(want[i]) }, "loss gradient")
					lg, lw := p.read(lc, lr)
					extra := 0.0
					if weighted {
						extra = float64(c.rows) * u * math.Abs(lw[0])
					}
					assertClose(r, lg, lw, func(int) float64 { return wmax*2*sb + float64(c.rows+2)*u*lw[0] + extra + tiny }, "loss sum")
					if counted {
						got, want := p.read(cc, cr)
						assertClose(r, got, want, exact, "count")
					}
				})
			}
		}
	}
}
