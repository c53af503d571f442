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

// TestSigmoidRowOutOfRange: a row with an input beyond expLimit (or
// infinite) is computed by Sigmoid, exactly.
func TestSigmoidRowOutOfRange(t *testing.T) {
	for _, big := range []float64{1000, -1000, math.Inf(1), math.Inf(-1), 709} {
		row := []float64{0.5, -2, big, 3, 1, -7, 0.25}
		want := make([]float64, len(row))
		for j, v := range row {
			want[j] = Sigmoid(v + 0.125)
		}
		bias := []float64{0.125, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125}
		sigmoidRow(row, bias)
		for j := range row {
			if row[j] != want[j] {
				t.Errorf("big=%v: row[%d] = %v, want Sigmoid's %v", big, j, row[j], want[j])
			}
		}
	}
}
