package cpuref

import (
	"fmt"
	"math"
	"testing"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/internal/par"
)

// BenchmarkSplit times each elementwise operation that splits over the
// cores, at growing sizes, on one goroutine and split over GOMAXPROCS,
// interleaved, for choosing expGrain and cheapGrain (run with -cpu 2):
//
//	go test -run '^$' -bench Split -count 6 ./cpuref
func BenchmarkSplit(b *testing.B) {
	const cols = 128
	ops := []struct {
		name string
		f    func(y, x []float64, src *Tensor, ix []uint32)
	}{
		{"sigmoid", func(y, x []float64, _ *Tensor, _ []uint32) { biasActivate(y, x[:cols], backend.Sigmoid) }},
		{"relu", func(y, x []float64, _ *Tensor, _ []uint32) { biasActivate(y, x[:cols], backend.ReLU) }},
		{"dsigmoid", func(y, x []float64, _ *Tensor, _ []uint32) { activationGrad(y, x, backend.Sigmoid) }},
		{"sgd", func(y, x []float64, _ *Tensor, _ []uint32) { sgdPlainSplit(y, x, 1e-9) }},
		{"gather", func(y, _ []float64, src *Tensor, ix []uint32) { gatherSplit(y, src, ix) }},
	}
	src := &Tensor{rows: 4096, cols: cols, models: 1, dtype: backend.Byte, u8: make([]byte, 4096*cols)}
	for i := range src.u8 {
		src.u8[i] = byte(i * 7)
	}
	for _, op := range ops {
		for _, rows := range []int{16, 32, 64, 128, 256, 512, 1024, 2048, 8192, 32768} {
			n := rows * cols
			y, x := make([]float64, n), make([]float64, n)
			for i := range x {
				x[i], y[i] = math.Sin(float64(i))*0.1, math.Cos(float64(i))*0.1
			}
			ix := make([]uint32, rows)
			for i := range ix {
				ix[i] = uint32(i*37) % 4096
			}
			for _, split := range []bool{false, true} {
				b.Run(fmt.Sprintf("%s/elements=%d/split=%v", op.name, n, split), func(b *testing.B) {
					if split {
						defer SetGrains(1)()
					} else {
						defer SetGrains(math.MaxInt / 2)()
					}
					for b.Loop() {
						op.f(y, x, src, ix)
					}
				})
			}
		}
	}
}

// gatherJob is the byte gather cut into chunks of rows, as a span would
// cut it (gatherModel itself never splits).
type gatherJob struct {
	y      []float64
	src    *Tensor
	ix     []uint32
	chunks int
}

func (j *gatherJob) Chunk(c int) {
	n := len(j.ix)
	gatherRows(j.y, j.src, 0, j.ix, 0, 1.0/255, n*c/j.chunks, n*(c+1)/j.chunks)
}

// gatherSplit is the gather split like the other operations, with memGrain.
func gatherSplit(y []float64, src *Tensor, ix []uint32) {
	if g := splits(len(ix), src.cols, memGrain); g >= 2 {
		par.Do(&gatherJob{y, src, ix, min(len(ix), par.ChunksPerWorker*g)}, min(len(ix), par.ChunksPerWorker*g))
		return
	}
	gatherRows(y, src, 0, ix, 0, 1.0/255, 0, len(ix))
}

// sgdPlainSplit is sgdModels' plain path on w and g.
func sgdPlainSplit(w, g []float64, lr float64) {
	if s := splits(len(w), 1, memGrain); s >= 2 {
		sp := newSpan(sgdSpan, len(w))
		sp.y, sp.x, sp.lr = w, g, lr
		sp.run(s)
		return
	}
	sgdPlain(w, g, lr)
}

// TestReLUIsMathMax checks that BiasActivate's relu gives math.Max(v, 0)'s
// bits for the special values (NaN, both zeros, infinities).
func TestReLUIsMathMax(t *testing.T) {
	for _, tc := range []struct{ y, bias float64 }{
		{math.NaN(), 0}, {0, math.Copysign(0, -1)}, {math.Copysign(0, -1), math.Copysign(0, -1)}, {0, 0},
		{-1, 0.5}, {1, -0.5}, {math.Inf(1), 0}, {math.Inf(-1), 0}, {math.Inf(1), math.Inf(-1)}, {-5e-324, 0},
	} {
		y := []float64{tc.y}
		biasActivate(y, []float64{tc.bias}, backend.ReLU)
		if want := math.Max(tc.y+tc.bias, 0); math.Float64bits(y[0]) != math.Float64bits(want) {
			t.Errorf("relu(%v + %v) = %v, math.Max gives %v", tc.y, tc.bias, y[0], want)
		}
	}
}
