package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// naive is the textbook triple loop in float64, with the error bound of each
// element: 2·k·ε·Σ|aᵢₚ·bₚⱼ| covers the rounding of both this sum and
// Dgemm's, whatever order each adds in.
func naive(transA, transB bool, m, n, k int, a []float64, lda int, b []float64, ldb int) (c, bound []float64) {
	c, bound = make([]float64, m*n), make([]float64, m*n)
	at := func(i, p int) float64 {
		if transA {
			return a[p*lda+i]
		}
		return a[i*lda+p]
	}
	bt := func(p, j int) float64 {
		if transB {
			return b[j*ldb+p]
		}
		return b[p*ldb+j]
	}
	for i := range m {
		for j := range n {
			var s, abs float64
			for p := range k {
				v := at(i, p) * bt(p, j)
				s += v
				abs += math.Abs(v)
			}
			c[i*n+j] = s
			bound[i*n+j] = 2*float64(k)*0x1p-52*abs + math.SmallestNonzeroFloat64
		}
	}
	return c, bound
}

func random(r *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = 2*r.Float64() - 1
	}
	return s
}

// Shapes around every block edge (mr=6, nr=8, mc=72, kc=384, in-place B up
// to 24 rows), odd sizes, and the MLP's own shapes.
var shapes = []struct{ m, n, k int }{
	{1, 1, 1}, {5, 7, 3}, {6, 8, 1}, {6, 8, 2}, {6, 8, 5}, {7, 9, 300},
	{13, 17, 257}, {72, 8, 256}, {73, 33, 255}, {145, 29, 513}, {24, 20, 385},
	{25, 9, 768}, {2, 130, 7},
	{360, 128, 64}, {128, 128, 360}, {360, 128, 1}, {360, 1, 128},
	{64, 784, 128}, {100, 10, 64}, {37, 41, 43}, {6, 4100, 3},
	{9, 5, 40}, {128, 1, 360}, {50, 7, 1},
}

func TestDgemmMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range shapes {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			name := fmt.Sprintf("%dx%dx%d/tA=%v,tB=%v", s.m, s.n, s.k, tr[0], tr[1])
			t.Run(name, func(t *testing.T) {
				ar, ac, br, bc := stored(s.m, s.n, s.k, tr[0], tr[1])
				// Strides wider than the rows, so a kernel that ignores
				// them reads the padding.
				lda, ldb, ldc := ac+3, bc+1, s.n+2
				a, b := random(r, ar*lda), random(r, br*ldb)
				c := make([]float64, s.m*ldc)
				for i := range c {
					c[i] = math.NaN() // must be overwritten, never read
				}
				Dgemm(tr[0], tr[1], s.m, s.n, s.k, a, lda, b, ldb, c, ldc)
				want, bound := naive(tr[0], tr[1], s.m, s.n, s.k, a, lda, b, ldb)
				worst := 0.0
				for i := range s.m {
					for j := range s.n {
						got, w, e := c[i*ldc+j], want[i*s.n+j], bound[i*s.n+j]
						if !(math.Abs(got-w) <= e) {
							t.Fatalf("c[%d][%d] = %v, want %v ± %v", i, j, got, w, e)
						}
						worst = max(worst, math.Abs(got-w)/e)
					}
					for j := s.n; j < ldc && i < s.m-1; j++ {
						if !math.IsNaN(c[i*ldc+j]) {
							t.Fatalf("c[%d][%d], beyond the %d columns, was written", i, j, s.n)
						}
					}
				}
				t.Logf("worst error %.3g of the bound", worst)
			})
		}
	}
}

// TestKernelsAgree runs each assembly micro-kernel and its Go counterpart
// on the same operands — packed, and read in place through strides (B rows
// further apart than a panel; A transposed or not) — with and without
// accumulation: both round each multiply-add once in the same order, so
// they must agree bit for bit.
func TestKernelsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name string
		ok   bool
		// run calls the assembly (asm) or the Go (!asm) kernel.
		run func(asm bool, k int, a []float64, rsa, csa int, b []float64, ldb int, c []float64, ldc int, acc bool)
		// rows, cols: the tile; packed: A must be packed (rsa 1, csa rows).
		rows, cols int
		packed     bool
	}{
		{"avx2_6x8", useAsm, func(asm bool, k int, a []float64, _, _ int, b []float64, ldb int, c []float64, ldc int, acc bool) {
			if asm {
				kernel(k, a, b, ldb, c, ldc, acc)
			} else {
				kernelGo(k, a, b, ldb, c, ldc, acc)
			}
		}, mr, nr, true},
		{"avx512_8x16", hasAVX512, func(asm bool, k int, a []float64, rsa, csa int, b []float64, ldb int, c []float64, ldc int, acc bool) {
			if asm {
				kernelZ(k, a, rsa, csa, b, ldb, c, ldc, acc)
			} else {
				kernelZGo(k, a, rsa, csa, b, ldb, c, ldc, acc)
			}
		}, zr, zc, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Skip("no such assembly micro-kernel on this processor or build")
			}
			// A's strides: packed (1, rows), row-major (lda, 1) and
			// transposed (1, lda), with lda wider than the panel.
			strides := [][2]int{{1, tc.rows}}
			if !tc.packed {
				strides = append(strides, [2]int{tc.rows + 5, 1}, [2]int{1, tc.rows + 3}, [2]int{391, 1})
			}
			for _, k := range []int{1, 2, 3, 4, 5, 8, 255, 384} {
				for _, st := range strides {
					for _, ldb := range []int{tc.cols, tc.cols + 3} {
						for _, acc := range []bool{false, true} {
							rsa, csa := st[0], st[1]
							a := random(r, (tc.rows-1)*rsa+(k-1)*csa+1)
							b := random(r, (k-1)*ldb+tc.cols)
							ldc := tc.cols + 5
							c0 := random(r, tc.rows*ldc)
							c1 := append([]float64(nil), c0...)
							tc.run(true, k, a, rsa, csa, b, ldb, c0, ldc, acc)
							tc.run(false, k, a, rsa, csa, b, ldb, c1, ldc, acc)
							for i, v := range c0 {
								if v != c1[i] {
									t.Fatalf("k=%d rsa=%d csa=%d ldb=%d accumulate=%v: element %d: assembly %v, Go %v", k, rsa, csa, ldb, acc, i, v, c1[i])
								}
							}
						}
					}
				}
			}
		})
	}
}

// withPath runs f with the wide (8×16, A in place) path on or off,
// whatever the processor, restoring the choice afterwards.
func withPath(wide bool, f func()) {
	old := useWide
	defer func() { useWide = old }()
	useWide = wide
	f()
}

// TestPathsAgree checks that the packed 6×8 path and the wide 8×16 path
// (each with whichever kernel this processor and build run) give the same
// bits for every shape and transpose: the result must not depend on the
// processor's vector width.
func TestPathsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	extra := []struct{ m, n, k int }{
		{8, 16, 1}, {9, 17, 385}, {15, 31, 769}, {16, 128, 360}, {1, 16, 784}, {7, 129, 64},
		{64, 128, 360}, {23, 200, 400}, {4, 640, 1024}, {3, 40, 9},
	}
	for _, s := range append(extra, shapes...) {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			ar, ac, br, bc := stored(s.m, s.n, s.k, tr[0], tr[1])
			lda, ldb, ldc := ac+1, bc+2, s.n+3
			a, b := random(r, ar*lda), random(r, br*ldb)
			var c [2][]float64
			for i, w := range []bool{false, true} {
				c[i] = make([]float64, s.m*ldc)
				withPath(w, func() { Dgemm(tr[0], tr[1], s.m, s.n, s.k, a, lda, b, ldb, c[i], ldc) })
			}
			for i, v := range c[0] {
				if v != c[1][i] && !(math.IsNaN(v) && math.IsNaN(c[1][i])) {
					t.Fatalf("%dx%dx%d tA=%v tB=%v: element %d: packed path %v, wide path %v", s.m, s.n, s.k, tr[0], tr[1], i, v, c[1][i])
				}
			}
		}
	}
}

// TestBatchInvariance checks that a row of C has the same bits whatever
// rows it is computed with: a prediction must not depend on the batch size.
func TestBatchInvariance(t *testing.T) {
	for _, w := range []bool{false, true} {
		withPath(w, func() { batchInvariance(t, w) })
	}
}

func batchInvariance(t *testing.T, wide bool) {
	r := rand.New(rand.NewPCG(7, 8))
	const m = 61
	for _, s := range []struct{ n, k int }{{128, 784}, {10, 64}, {1, 128}, {3, 5}, {8, 400}, {37, 9}, {16, 360}, {130, 129}} {
		for _, transB := range []bool{false, true} {
			t.Run(fmt.Sprintf("wide=%v,n=%d,k=%d,tB=%v", wide, s.n, s.k, transB), func(t *testing.T) {
				ldb := s.n
				if transB {
					ldb = s.k
				}
				a, b := random(r, m*s.k), random(r, s.n*s.k)
				full := make([]float64, m*s.n)
				Dgemm(false, transB, m, s.n, s.k, a, s.k, b, ldb, full, s.n)
				for _, batch := range []int{1, 2, 5, 6, 7, 8, 9, 13, 16, 24, 25, 32} {
					for i0 := 0; i0 < m; i0 += batch {
						rows := min(batch, m-i0)
						part := make([]float64, rows*s.n)
						Dgemm(false, transB, rows, s.n, s.k, a[i0*s.k:], s.k, b, ldb, part, s.n)
						for i := range rows {
							for j := range s.n {
								if got, want := part[i*s.n+j], full[(i0+i)*s.n+j]; got != want {
									t.Fatalf("batch %d: row %d col %d = %v, in one batch of %d: %v", batch, i0+i, j, got, m, want)
								}
							}
						}
					}
				}
			})
		}
	}
}

// TestThinAgree checks that thin's vector loops (four rows' dot products;
// sixteen columns of a transposed A) give the bits of its Go loops, for
// products of fewer than nr columns with every transpose, odd sizes and
// wide strides.
func TestThinAgree(t *testing.T) {
	if !useThinAsm {
		t.Skip("no vector loops for thin in this build")
	}
	r := rand.New(rand.NewPCG(15, 16))
	for _, m := range []int{1, 3, 4, 5, 15, 16, 17, 33, 128, 360} {
		for _, n := range []int{1, 2, 7} {
			for _, k := range []int{1, 3, 4, 5, 128, 361} {
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					ar, ac := m, k
					if tr[0] {
						ar, ac = k, m
					}
					br, bc := k, n
					if tr[1] {
						br, bc = n, k
					}
					lda, ldb, ldc := ac+2, bc, n+1
					a, b := random(r, ar*lda), random(r, br*ldb)
					var c [2][]float64
					for i, asm := range []bool{false, true} {
						c[i] = make([]float64, m*ldc)
						func() {
							defer func(old bool) { useThinAsm = old }(useThinAsm)
							useThinAsm = asm
							Dgemm(tr[0], tr[1], m, n, k, a, lda, b, ldb, c[i], ldc)
						}()
					}
					for i, v := range c[0] {
						if v != c[1][i] {
							t.Fatalf("%dx%dx%d tA=%v tB=%v: element %d: Go %v, vector %v", m, n, k, tr[0], tr[1], i, v, c[1][i])
						}
					}
				}
			}
		}
	}
}

// TestSplitInvariance checks that splitting a product over goroutines, by
// rows or by columns, changes no bits: each path (the wide one where the
// processor has AVX-512F) is run with GOMAXPROCS 1, 2, 3 and 4 and a
// threshold of one multiply-add.
func TestSplitInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	oldMACs, oldPMACs, oldProcs := wideParallelMACs, parallelMACs, runtime.GOMAXPROCS(0)
	defer func() { wideParallelMACs, parallelMACs = oldMACs, oldPMACs; runtime.GOMAXPROCS(oldProcs) }()
	wideParallelMACs, parallelMACs = 1, 1
	paths := []bool{false}
	if hasAVX512 {
		paths = append(paths, true)
	}
	for _, s := range []struct{ m, n, k int }{{61, 130, 400}, {5, 200, 50}, {1, 33, 17}, {360, 128, 128}, {17, 16, 800}} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			ar, ac, br, bc := stored(s.m, s.n, s.k, tr[0], tr[1])
			a, b := random(r, ar*ac), random(r, br*bc)
			for _, wide := range paths {
				var want []float64
				for _, procs := range []int{1, 2, 3, 4} {
					runtime.GOMAXPROCS(procs)
					c := make([]float64, s.m*s.n)
					withPath(wide, func() { Dgemm(tr[0], tr[1], s.m, s.n, s.k, a, ac, b, bc, c, s.n) })
					if want == nil {
						want = c
						continue
					}
					for i, v := range c {
						if v != want[i] {
							t.Fatalf("%dx%dx%d tA=%v tB=%v wide=%v: GOMAXPROCS %d: element %d = %v, with 1: %v", s.m, s.n, s.k, tr[0], tr[1], wide, procs, i, v, want[i])
						}
					}
				}
			}
		}
	}
}

func TestDgemmZeroK(t *testing.T) {
	c := []float64{1, 2, 3, 4, 5, 6}
	Dgemm(false, false, 2, 3, 0, nil, 1, nil, 3, c, 3)
	for i, v := range c {
		if v != 0 {
			t.Fatalf("c[%d] = %v after a product over k=0, want 0", i, v)
		}
	}
}

func TestDgemmPanics(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		f          func()
	}{
		{"short a", "gemm: a is 2×3 with stride 3: needs 6 elements, has 5", func() {
			Dgemm(false, false, 2, 2, 3, make([]float64, 5), 3, make([]float64, 6), 2, make([]float64, 4), 2)
		}},
		{"narrow stride", "gemm: b is 3×2: stride 1 is less than its 2 columns", func() {
			Dgemm(false, false, 2, 2, 3, make([]float64, 6), 3, make([]float64, 6), 1, make([]float64, 4), 2)
		}},
		{"negative", "gemm: a is -1×3: negative dimension", func() {
			Dgemm(false, false, -1, 2, 3, nil, 3, make([]float64, 6), 2, nil, 2)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if got := fmt.Sprint(recover()); got != tc.want {
					t.Errorf("panic %q, want %q", got, tc.want)
				}
			}()
			tc.f()
		})
	}
}

func benchShapes() []struct {
	name           string
	m, n, k        int
	transA, transB bool
} {
	return []struct {
		name           string
		m, n, k        int
		transA, transB bool
	}{
		{"square_256", 256, 256, 256, false, false},
		{"square_1024", 1024, 1024, 1024, false, false},
		{"seed_fwd_360x64x128", 360, 128, 64, false, false},
		{"seed_fwd_360x128x128", 360, 128, 128, false, false},
		{"seed_dW_128x360x128_tA", 128, 128, 360, true, false},
		{"seed_dX_360x128x128_tB", 360, 128, 128, false, true},
		{"seed_dW1_64x360x128_tA", 64, 128, 360, true, false},
		{"seed_dH_360x1x128_tB", 360, 128, 1, false, true},
		{"big_1024x784x128", 1024, 128, 784, false, false},
		{"mlp_fwd_64x784x128", 64, 128, 784, false, false},
		{"mlp_dW_784x512x128_tA", 784, 128, 512, true, false},
		{"mlp_fwd_8x784x128", 8, 128, 784, false, false},
		{"mlp_fwd_1x784x128", 1, 128, 784, false, false},
		{"seed_out_360x128x1", 360, 1, 128, false, false},
		{"seed_dW_128x360x1_tA", 128, 1, 360, true, false},
	}
}

// reportFlops reports GFLOP/s on the wall clock, CPU time per operation
// (all threads) and, where the peak is measured, flops per CPU-second as a
// percentage of one core's FMA peak: the fraction of the peak of the cores
// the product kept busy, which the load from other processes leaves
// nearly untouched.
func reportFlops(b *testing.B, flops, cpu float64) {
	n := float64(b.N)
	b.ReportMetric(flops*n/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu <= 0 {
		return
	}
	b.ReportMetric(cpu/n*1e9, "cpu-ns/op")
	if p := peakPerCore(); p > 0 {
		b.ReportMetric(100*flops*n/cpu/p, "%peak")
	}
}

// BenchmarkDgemm compares this package with gonum's Dgemm, in GFLOP/s
// (wall clock) and, for this package, in CPU time and as a percentage of
// the FMA peak of the cores used:
//
//	go test -run '^$' -bench Dgemm ./internal/gemm
func BenchmarkDgemm(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range benchShapes() {
		a, bb, c := random(r, s.m*s.k), random(r, s.k*s.n), make([]float64, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.transA {
			lda = s.m
		}
		if s.transB {
			ldb = s.k
		}
		flops := 2 * float64(s.m*s.n*s.k)
		b.Run(s.name+"/gemm", func(b *testing.B) {
			t0 := cpuSeconds()
			for b.Loop() {
				Dgemm(s.transA, s.transB, s.m, s.n, s.k, a, lda, bb, ldb, c, s.n)
			}
			reportFlops(b, flops, cpuSeconds()-t0)
		})
		if useWide {
			// The packed 6×8 path this processor would otherwise run.
			b.Run(s.name+"/packed", func(b *testing.B) {
				withPath(false, func() {
					t0 := cpuSeconds()
					for b.Loop() {
						Dgemm(s.transA, s.transB, s.m, s.n, s.k, a, lda, bb, ldb, c, s.n)
					}
					reportFlops(b, flops, cpuSeconds()-t0)
				})
			})
		}
		b.Run(s.name+"/gonum", func(b *testing.B) {
			for b.Loop() {
				gonum.Implementation{}.Dgemm(trans(s.transA), trans(s.transB), s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// BenchmarkThreads times products of growing size on one goroutine and
// split over GOMAXPROCS, interleaved, on the wide path (where the
// processor has AVX-512F) and on the packed one, for choosing
// wideParallelMACs and parallelMACs (run with -cpu 2):
//
//	go test -run '^$' -bench Threads -count 8 ./internal/gemm
func BenchmarkThreads(b *testing.B) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, s := range []struct{ m, n, k int }{
		{16, 128, 64}, {16, 128, 128}, {32, 128, 128}, {64, 128, 128}, {128, 128, 128},
		{360, 64, 64}, {360, 128, 64}, {360, 128, 128}, {512, 128, 128}, {512, 256, 128},
		{1024, 256, 128}, {64, 128, 784}, {128, 128, 784}, {256, 128, 784}, {1024, 128, 784},
	} {
		a, bb, c := random(r, s.m*s.k), random(r, s.k*s.n), make([]float64, s.m*s.n)
		for _, path := range []string{"wide", "packed"} {
			if path == "wide" && !hasAVX512 {
				continue
			}
			for _, split := range []bool{false, true} {
				name := fmt.Sprintf("%s/%dx%dx%d_macs=%d/split=%v", path, s.m, s.n, s.k, s.m*s.n*s.k, split)
				b.Run(name, func(b *testing.B) {
					oldW, oldP := wideParallelMACs, parallelMACs
					defer func() { wideParallelMACs, parallelMACs = oldW, oldP }()
					wideParallelMACs, parallelMACs = math.MaxInt, math.MaxInt
					if split {
						wideParallelMACs, parallelMACs = 1, 1
					}
					t0 := cpuSeconds()
					withPath(path == "wide", func() {
						for b.Loop() {
							Dgemm(false, false, s.m, s.n, s.k, a, s.k, bb, s.n, c, s.n)
						}
					})
					reportFlops(b, 2*float64(s.m*s.n*s.k), cpuSeconds()-t0)
				})
			}
		}
	}
}

// stored returns the stored shapes of A (ar×ac) and B (br×bc) of an
// m×n×k product with the given transposes.
func stored(m, n, k int, transA, transB bool) (ar, ac, br, bc int) {
	ar, ac, br, bc = m, k, k, n
	if transA {
		ar, ac = k, m
	}
	if transB {
		br, bc = n, k
	}
	return ar, ac, br, bc
}

// squareEpi is an Epilogue that records which elements it finished and
// squares them plus their index, a function no two blocks could share.
type squareEpi struct {
	n    int
	seen []int32 // times element (i, j) was finished, at i*n+j
	bad  string  // the first block that broke Finish's contract
}

func (e *squareEpi) Finish(c []float64, ldc, i0, i1, j0, j1 int) {
	if j0%8 != 0 || (j1%8 != 0 && j1 != e.n) || i0 >= i1 || j0 >= j1 {
		if e.bad == "" {
			e.bad = fmt.Sprintf("block rows %d..%d columns %d..%d", i0, i1, j0, j1)
		}
	}
	for i := i0; i < i1; i++ {
		for j := j0; j < j1; j++ {
			c[i*ldc+j] = square(c[i*ldc+j], i, j)
			e.seen[i*e.n+j]++
		}
	}
}

func square(v float64, i, j int) float64 { return v*v + float64(i*1000+j) }

// TestEpilogue checks that DgemmEpilogue finishes every element of C
// exactly once, after its last multiply-add, in blocks aligned as Finish's
// contract says, on every path and with the product split over
// goroutines: its result is Dgemm's with the function applied after.
func TestEpilogue(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	oldMACs, oldPMACs, oldProcs := wideParallelMACs, parallelMACs, runtime.GOMAXPROCS(0)
	defer func() { wideParallelMACs, parallelMACs = oldMACs, oldPMACs; runtime.GOMAXPROCS(oldProcs) }()
	paths := []bool{false}
	if hasAVX512 {
		paths = append(paths, true)
	}
	shapes := []struct{ m, n, k int }{
		{1, 1, 1}, {3, 7, 5}, {9, 17, 385}, {61, 130, 400}, {64, 128, 784}, {17, 8, 800}, {5, 4090, 3}, {8, 16, 0},
	}
	for _, s := range shapes {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			ar, ac, br, bc := stored(s.m, s.n, s.k, tr[0], tr[1])
			lda, ldb, ldc := ac+1, bc+2, s.n+3
			a, b := random(r, max(ar*lda, 1)), random(r, max(br*ldb, 1))
			want := make([]float64, s.m*ldc)
			Dgemm(tr[0], tr[1], s.m, s.n, s.k, a, lda, b, ldb, want, ldc)
			for i := range s.m {
				for j := range s.n {
					want[i*ldc+j] = square(want[i*ldc+j], i, j)
				}
			}
			for _, wide := range paths {
				for _, procs := range []int{1, 2, 3} {
					runtime.GOMAXPROCS(procs)
					wideParallelMACs, parallelMACs = oldMACs, oldPMACs
					if procs > 1 {
						wideParallelMACs, parallelMACs = 1, 1
					}
					name := fmt.Sprintf("%dx%dx%d tA=%v tB=%v wide=%v procs=%d", s.m, s.n, s.k, tr[0], tr[1], wide, procs)
					c := make([]float64, s.m*ldc)
					e := &squareEpi{n: s.n, seen: make([]int32, s.m*s.n)}
					withPath(wide, func() { DgemmEpilogue(tr[0], tr[1], s.m, s.n, s.k, a, lda, b, ldb, c, ldc, e) })
					if e.bad != "" {
						t.Fatalf("%s: %s breaks Finish's alignment", name, e.bad)
					}
					for x, v := range e.seen {
						if v != 1 {
							t.Fatalf("%s: element (%d, %d) finished %d times", name, x/s.n, x%s.n, v)
						}
					}
					for i := range s.m {
						for j := range s.n {
							if got, w := c[i*ldc+j], want[i*ldc+j]; got != w {
								t.Fatalf("%s: (%d, %d) = %v, Dgemm then the function: %v", name, i, j, got, w)
							}
						}
					}
				}
			}
		}
	}
}

// BenchmarkSharedWrite times the batch-64 first-layer product of
// 784-128-64-10 (64×784 by 784×128) on one goroutine and split over
// GOMAXPROCS, with B as the product found it last time (clean: every core
// that read it still holds it) and with B rewritten on the calling
// goroutine before each product (dirty, as a training step leaves its
// weights after the update: a core that did not write them must fetch
// them from the one that did). The rewrite is not timed. Run with -cpu 2:
//
//	go test -run '^$' -bench SharedWrite -count 5 ./internal/gemm
func BenchmarkSharedWrite(b *testing.B) {
	r := rand.New(rand.NewPCG(19, 20))
	const m, n, k = 64, 128, 784
	a, bb, c := random(r, m*k), random(r, k*n), make([]float64, m*n)
	for _, split := range []bool{false, true} {
		for _, dirty := range []bool{false, true} {
			b.Run(fmt.Sprintf("split=%v/dirty=%v", split, dirty), func(b *testing.B) {
				old := wideParallelMACs
				defer func() { wideParallelMACs = old }()
				wideParallelMACs = math.MaxInt
				if split {
					wideParallelMACs = 1
				}
				for i := 0; i < b.N; i++ {
					if dirty {
						b.StopTimer()
						for x := range bb {
							bb[x] = -bb[x]
						}
						b.StartTimer()
					}
					Dgemm(false, false, m, n, k, a, k, bb, n, c, n)
				}
			})
		}
	}
}
