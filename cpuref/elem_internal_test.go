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

// TestVectorColumnSumAgree checks the AVX2 column sum and sigmoid
// derivative against the Go loops' arithmetic, bit for bit, at widths and
// row counts around the vector widths and on special values.
func TestVectorColumnSumAgree(t *testing.T) {
	if !vectorElem {
		t.Skip("no vector loops on this processor or build")
	}
	r := rand.New(rand.NewPCG(5, 6))
	special := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 5e-324, math.MaxFloat64, 1e-300}
	val := func(i int) float64 {
		if i%13 == 6 {
			return special[r.IntN(len(special))]
		}
		return r.NormFloat64() * math.Exp(10*r.Float64()-5)
	}
	same := func(a, b float64) bool {
		return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
	}
	for _, n := range []int{1, 3, 4, 5, 8, 15, 16, 17, 20, 33, 128, 131} {
		for _, rows := range []int{1, 2, 3, 7, 360} {
			s := make([]float64, n*rows)
			for i := range s {
				s[i] = val(i)
			}
			want := make([]float64, n)
			for j := range want {
				want[j] = s[j]
				for i := 1; i < rows; i++ {
					want[j] += s[i*n+j]
				}
			}
			got := make([]float64, n)
			columnSumModel(got, s)
			for j := range got {
				if !same(got[j], want[j]) {
					t.Fatalf("column sum %d×%d: column %d = %v, Go loop %v", rows, n, j, got[j], want[j])
				}
			}
		}
		y, d := make([]float64, n), make([]float64, n)
		for i := range y {
			y[i], d[i] = r.Float64(), val(i)
			if i%5 == 2 {
				y[i] = val(i)
			}
		}
		want := append([]float64(nil), d...)
		for i, v := range y {
			want[i] *= v * (1 - v)
		}
		activationGradRange(d, y, backend.Sigmoid)
		for i := range d {
			if !same(d[i], want[i]) {
				t.Fatalf("sigmoid derivative n=%d: element %d = %v, Go loop %v", n, i, d[i], want[i])
			}
		}
	}
}
