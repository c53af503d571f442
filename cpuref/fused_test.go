package cpuref_test

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/cpuref"
)

// TestFusedBits checks that each fused layer operation gives, bit for
// bit, what its parts give one after another: MatMulBiasActivate (and its
// gathered form) against MatMul, BiasActivate and DropoutForward;
// MatMulActivationGrad against MatMul then DropoutGrad. The fused forms
// finish the product block by block in its epilogue, or, when the
// activation alone would be split over the cores (grains of one element),
// in a pass of their own; both must agree with the parts. The shapes are
// not multiples of the product's tiles, some pre-activations are beyond
// the vector sigmoid's range, and arrays of three models are included.
func TestFusedBits(t *testing.T) {
	acts := []backend.Activation{backend.Identity, backend.Sigmoid, backend.ReLU, backend.Tanh}
	// 64×800×24 has inputs enough to be cut by owner (owned.go) when
	// there are two cores or more, as the test makes sure.
	shapes := []struct{ m, k, n int }{{1, 1, 1}, {5, 3, 7}, {37, 29, 21}, {64, 100, 130}, {9, 400, 16}, {3, 5, 1000}, {64, 800, 24}}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	for _, s := range shapes {
		for _, act := range acts {
			for _, p := range []float64{0, 0.3} {
				for _, models := range []int{1, 3} {
					for _, grain := range []int{0, 1} {
						name := fmt.Sprintf("%dx%dx%d/%v/p=%v/models=%d/grain=%d", s.m, s.k, s.n, act, p, models, grain)
						t.Run(name, func(t *testing.T) {
							if grain > 0 {
								defer cpuref.SetGrains(grain)()
							}
							fusedBits(t, s.m, s.k, s.n, act, backend.Dropout{P: p, Seed: 7, Step: 3, Layer: 1}, models)
						})
					}
				}
			}
		}
	}
}

func fusedBits(t *testing.T, m, k, n int, act backend.Activation, drop backend.Dropout, models int) {
	b := cpuref.New()
	defer b.Close()
	seq := 0
	arr := func(r, c int, scale float64) backend.Tensor {
		x, err := b.NewArray(models, r, c, backend.Float)
		require.NoError(t, err)
		v := make([]float64, models*r*c)
		for i := range v {
			seq++
			v[i] = scale * math.Sin(float64(seq)*0.37)
		}
		if scale > 1 && len(v) > 3 {
			v[len(v)/2] = 2000 // beyond the vector sigmoid's range
		}
		require.NoError(t, b.WriteFloats(x, v))
		return x
	}
	// Forward: y = act(x·w + bias), dropped out.
	x, w, bias := arr(m, k, 1), arr(k, n, 1), arr(1, n, 3)
	fused, parts := arr(m, n, 0), arr(m, n, 0)
	b.MatMulBiasActivate(fused, x, w, bias, act, drop)
	b.MatMul(parts, x, w, false, false)
	b.BiasActivate(parts, bias, act)
	pf := read(t, b, parts)
	for mk := range models {
		cpuref.DropoutForward(pf[mk*m*n:(mk+1)*m*n], drop, mk)
	}
	sameBits(t, "MatMulBiasActivate", read(t, b, fused), pf)

	// The gathered form, from a Float source through an index list.
	src := arr(m+3, k, 1)
	idx, err := b.NewArray(models, 1, m, backend.Index)
	require.NoError(t, err)
	ix := make([]uint32, models*m)
	for i := range ix {
		ix[i] = uint32((i*5 + 1) % (m + 3))
	}
	require.NoError(t, b.WriteIndices(idx, ix))
	xg := arr(m, k, 0)
	b.GatherMatMulBiasActivate(xg, src, idx, 0, 0.5, fused, w, bias, act, drop)
	b.Gather(x, src, idx, 0, 0.5)
	b.MatMul(parts, x, w, false, false)
	b.BiasActivate(parts, bias, act)
	pf = read(t, b, parts)
	for mk := range models {
		cpuref.DropoutForward(pf[mk*m*n:(mk+1)*m*n], drop, mk)
	}
	sameBits(t, "GatherMatMulBiasActivate", read(t, b, fused), pf)
	if models == 1 && k >= 800 {
		require.Equal(t, 2, cpuref.OwnedForwards(b), "MatMulBiasActivate and GatherMatMulBiasActivate, cut by owner")
	}

	// Backward: dz = (g·wᵀ) ⊙ act'(z) through the dropout, y the output
	// just computed.
	g, w2 := arr(m, k, 1), arr(n, k, 1)
	dz := arr(m, n, 0)
	b.MatMulActivationGrad(dz, g, w2, fused, true, act, drop)
	b.MatMul(parts, g, w2, false, true)
	pf, yf := read(t, b, parts), read(t, b, fused)
	for mk := range models {
		cpuref.DropoutGrad(pf[mk*m*n:(mk+1)*m*n], yf[mk*m*n:(mk+1)*m*n], act, drop, mk)
	}
	sameBits(t, "MatMulActivationGrad", read(t, b, dz), pf)
}

// sameBits requires got and want to hold the same float64 bits.
func sameBits(t *testing.T, op string, got, want []float64) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s: element %d = %v, its parts one after another: %v", op, i, got[i], want[i])
		}
	}
}
