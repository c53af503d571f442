package cpuref

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ulps is |a − b| in units of b's last place.
func ulps(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / math.Abs(math.Nextafter(b, math.Inf(1))-b)
}

// TestVectorSigmoid compares the AVX2 sigmoid with the scalar Sigmoid
// (math.Exp) on random and special inputs: within 4 ulp (the polynomial exp
// is within 2, the division and product add at most 2), NaN for NaN.
func TestVectorSigmoid(t *testing.T) {
	if !vectorSigmoid {
		t.Skip("no vector sigmoid on this processor or build")
	}
	r := rand.New(rand.NewPCG(1, 2))
	var z []float64
	for range 40000 {
		z = append(z, 80*r.Float64()-40, 2*expLimit*r.Float64()-expLimit, r.NormFloat64()*1e-3)
	}
	z = append(z, 0, math.Copysign(0, -1), 1e-300, -1e-300, expLimit, -expLimit, 36.7, -36.7, 745, -745)
	z = z[:len(z)&^3]
	worst := 0.0
	for i := 0; i < len(z); i += 4 {
		y := append([]float64(nil), z[i:i+4]...)
		bias := []float64{0, 0, 0, 0}
		if math.Abs(y[0]) <= expLimit && math.Abs(y[1]) <= expLimit && math.Abs(y[2]) <= expLimit && math.Abs(y[3]) <= expLimit {
			sigmoidBias4(&y[0], &bias[0], 4)
		} else {
			continue // the caller sends such groups to Sigmoid
		}
		for j, v := range y {
			want := Sigmoid(z[i+j])
			u := ulps(v, want)
			if !(u <= 4) {
				t.Fatalf("σ(%v) = %v, Sigmoid gives %v (%.1f ulp)", z[i+j], v, want, u)
			}
			worst = math.Max(worst, u)
		}
	}
	t.Logf("worst %.2f ulp over %d inputs", worst, len(z))

	y := []float64{math.NaN(), 1, -1, 0}
	bias := []float64{0, 0.5, math.NaN(), 0}
	sigmoidBias4(&y[0], &bias[0], 4)
	if !math.IsNaN(y[0]) || !math.IsNaN(y[2]) || math.IsNaN(y[1]) || y[3] != 0.5 {
		t.Errorf("NaN handling: got %v, want NaN, σ(1.5), NaN, 0.5", y)
	}
}

// TestSigmoidRowOutOfRange: an input beyond expLimit (or infinite) sends
// its group of four to Sigmoid, exactly, and changes no bit of the other
// groups, which a row finished in blocks of columns relies on.
func TestSigmoidRowOutOfRange(t *testing.T) {
	const n = 15
	bias := make([]float64, n)
	base := make([]float64, n)
	for j := range base {
		base[j] = float64(j)*0.7 - 4
		bias[j] = 0.125
	}
	clean := append([]float64(nil), base...)
	sigmoidRow(clean, bias)
	for _, big := range []float64{1000, -1000, math.Inf(1), math.Inf(-1), 709} {
		for _, at := range []int{0, 2, 5, 11, 13} {
			row := append([]float64(nil), base...)
			row[at] = big
			sigmoidRow(row, bias)
			g := at &^ 3
			for j := range row {
				want := clean[j]
				if j >= g && j < g+4 {
					in := base[j]
					if j == at {
						in = big
					}
					want = Sigmoid(in + bias[j])
				}
				if row[j] != want {
					t.Errorf("big=%v at %d: row[%d] = %v, want %v", big, at, j, row[j], want)
				}
			}
		}
	}
}
