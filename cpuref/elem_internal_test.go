package cpuref

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gputrain/gputrain/backend"
)

// TestVectorElemAgree checks the AVX2 loops of SGD and the byte gather
// against their Go loops, bit for bit, at lengths around the vector widths
// and on special values.
func TestVectorElemAgree(t *testing.T) {
	if !vectorElem {
		t.Skip("no vector loops on this processor or build")
	}
	r := rand.New(rand.NewPCG(3, 4))
	special := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 5e-324, math.MaxFloat64, 1e-300}
	for _, n := range []int{0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 1031} {
		for _, lr := range []float64{0.01, 1.0 / 3, -7.5e-5, 1e300} {
			w, g := make([]float64, n), make([]float64, n)
			for i := range w {
				w[i], g[i] = r.NormFloat64(), r.NormFloat64()*math.Exp(20*r.Float64()-10)
				if i%7 == 3 {
					w[i] = special[r.IntN(len(special))]
				}
				if i%11 == 5 {
					g[i] = special[r.IntN(len(special))]
				}
			}
			want := append([]float64(nil), w...)
			for i := range want {
				want[i] -= lr * g[i]
			}
			sgdPlain(w, g, lr)
			for i := range w {
				if math.Float64bits(w[i]) != math.Float64bits(want[i]) && !(math.IsNaN(w[i]) && math.IsNaN(want[i])) {
					t.Fatalf("sgd n=%d lr=%v: element %d = %v, Go loop %v", n, lr, i, w[i], want[i])
				}
			}
		}
		for _, scale := range []float64{1.0 / 255, 1, 1.0 / 16, 3e-310} {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(r.IntN(256))
			}
			ts := &Tensor{rows: 1, cols: n, models: 1, dtype: backend.Byte, u8: src}
			got := make([]float64, n)
			gatherRows(got, ts, 0, []uint32{0}, 0, scale, 0, 1)
			for j, v := range src {
				if want := float64(v) * scale; math.Float64bits(got[j]) != math.Float64bits(want) {
					t.Fatalf("gather n=%d scale=%v: element %d = %v, want %v", n, scale, j, got[j], want)
				}
			}
		}
	}
}
