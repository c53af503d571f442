package gpu

import (
	"fmt"
	"math/bits"
	"time"
)

// MatmulCandidates are the tile configurations the autotuner measures. All
// use 256 invocations a workgroup; they differ in tile shape, depth,
// outputs per invocation (more outputs per invocation means more reuse of
// each value loaded from workgroup memory, but more registers) and load
// width (Vec4: 16-byte loads, measured only on shapes that allow them).
var MatmulCandidates = []MatmulConfig{
	DefaultMatmul,
	{BM: 64, BN: 64, BK: 16, TM: 4, TN: 4},
	{BM: 32, BN: 32, BK: 16, TM: 2, TN: 2},
	{BM: 128, BN: 64, BK: 8, TM: 8, TN: 4},
	{BM: 64, BN: 128, BK: 8, TM: 4, TN: 8},
	{BM: 128, BN: 128, BK: 8, TM: 8, TN: 8},
	{BM: 16, BN: 16, BK: 16, TM: 1, TN: 1},
	{BM: 128, BN: 64, BK: 8, TM: 8, TN: 4, Vec4: true},
	{BM: 128, BN: 128, BK: 8, TM: 8, TN: 8, Vec4: true},
	{BM: 32, BN: 64, BK: 4, TM: 8, TN: 8, Vec4: true, Direct: true},
	{BM: 64, BN: 64, BK: 4, TM: 8, TN: 8, Direct: true},
}

// SplitCandidates are the split-k configurations (see MatmulConfig.SplitK)
// the autotuner also measures on hardware GPUs, beside MatmulCandidates and
// the shape's default choice.
var SplitCandidates = []MatmulConfig{
	{BM: 16, BN: 16, BK: 4, TM: 4, TN: 4, Vec4: true, Direct: true, SplitK: 4},
	{BM: 16, BN: 16, BK: 4, TM: 4, TN: 4, Vec4: true, Direct: true, SplitK: 8},
	{BM: 8, BN: 8, BK: 4, TM: 4, TN: 4, Vec4: true, Direct: true, SplitK: 16},
	{BM: 8, BN: 8, BK: 4, TM: 4, TN: 4, Vec4: true, Direct: true, SplitK: 32},
	{BM: 16, BN: 16, BK: 4, TM: 2, TN: 2, Direct: true, SplitK: 4},
	{BM: 32, BN: 32, BK: 4, TM: 4, TN: 4, Vec4: true, Direct: true, SplitK: 2},
	{BM: 4, BN: 16, BK: 4, TM: 4, TN: 4, Vec4: true, Direct: true, SplitK: 32},
}

// candidates are the configurations the autotuner measures for a shape
// bucket: the bucket's default choice first (so that tuning picks it
// unless another is measurably faster), then MatmulCandidates, and on a
// hardware GPU SplitCandidates; each once, with Vec4 dropped where the
// shape does not allow it.
func (b *Backend) candidates(key tuneKey) []MatmulConfig {
	hw := !b.adapter.Software()
	all := []MatmulConfig{defaultConfig(key.m, key.k, key.n, key.transA, key.transB, hw, 1)}
	all = append(all, MatmulCandidates...)
	if hw {
		all = append(all, SplitCandidates...)
	}
	var out []MatmulConfig
	seen := map[MatmulConfig]bool{}
	for _, c := range all {
		c = c.forShape(key.m, key.k, key.n, key.transA, key.transB)
		if seen[c] || c.valid(b.adapter.Limits) != nil {
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	return out
}

// tuneRepSeconds is the least wall time of one timed repetition of a
// candidate: a repetition records as many products (up to 64) into one
// submission as take that long, so that a product of a few microseconds is
// not timed by the cost of a submission and a wait.
const tuneRepSeconds = 500e-6

// directMACs is the most multiply-adds of one model's product that the
// default choice (without autotuning) gives the direct kernel, with a
// tile fitted to the shape (directConfig); larger products take
// DefaultMatmul. A training step at batch 32 of 64-128-64-10 has products
// of at most 32·128·64 = 2¹⁸: on 64×64 tiles they are half to nine tenths
// padding (a 32-row batch, a 10-wide layer), and on a software adapter
// their barriers and workgroup-memory traffic cost more than the
// arithmetic (docs/bench-model-arrays.md).
const directMACs = 1 << 20

// directConfig is the direct kernel's tile for an m×n product: TM×TN
// outputs an invocation (8×8 where the product has that many rows and
// columns, else 4), and as many invocations as cover the product up to
// 8×8 of them. Vec4 is on; forShape and forStrides turn it off where the
// operands do not allow it.
func directConfig(m, n int) MatmulConfig {
	tm, tn := 8, 8
	if m < 8 {
		tm = 4
	}
	if n < 32 {
		tn = 4
	}
	ty := min(max((m+tm-1)/tm, 1), 8)
	tx := min(max((n+tn-1)/tn, 1), 8)
	return MatmulConfig{BM: ty * tm, BN: tx * tn, BK: 4, TM: tm, TN: tn, Vec4: true, Direct: true}
}

// defaultConfig is the configuration of an m×k×n product of models
// models without autotuning. On a software adapter: the direct kernel
// fitted to small products, DefaultMatmul for the others. Products with a
// transposed a (the weight gradient xᵀ·dy) keep the tiles: on lavapipe the
// direct kernel's loads of a stored k×m were no faster than the tiles with
// vec4 loads and 8×8 blocks, and 10 to 70 times slower with scalar loads
// or 4-wide blocks (a 64×32×64 xᵀ·dy: 2 to 22 ms against 0.3 ms;
// docs/bench-model-arrays.md). A transposed b (dy·wᵀ) takes the direct
// kernel only with vec4 loads and 8×8 blocks, the form measured there. On a
// hardware GPU: hardwareConfig.
func defaultConfig(m, k, n int, transA, transB, hardware bool, models int) MatmulConfig {
	if hardware {
		return hardwareConfig(m, k, n, models)
	}
	if transA || int64(m)*int64(k)*int64(n) > directMACs {
		return DefaultMatmul
	}
	c := directConfig(m, n)
	if transB && (c.TM != 8 || c.TN != 8 || !vec4Fits(m, k, n, transA, transB)) {
		return DefaultMatmul
	}
	return c
}

// hardwareWorkgroups is the number of 64×64 tiles (counted over every
// model) from which a hardware GPU's product takes DefaultMatmul: enough
// workgroups to occupy a GPU's multiprocessors (an H200 has 132) with the
// tiles' reuse of workgroup memory. Below it the product is too small to
// fill the GPU, and the time of the tiles is k/BK barriers each waiting on
// global memory, so hardwareConfig splits k instead.
const hardwareWorkgroups = 128

// hardwareConfig is the configuration of an m×k×n product of models
// models on a hardware GPU: DefaultMatmul for products of at least
// hardwareWorkgroups tiles, else the direct kernel with k split
// (_matmul_splitk.wgsl) on 16×16 blocks of 4×4 outputs an invocation
// (8×8 blocks when even those leave the GPU mostly idle and k is long),
// with as many slices of k as keep each slice at least four steps of four
// k, up to 256 invocations and 16 KiB of workgroup memory.
func hardwareConfig(m, k, n, models int) MatmulConfig {
	ceil := func(a, b int) int { return (a + b - 1) / b }
	if ceil(m, 64)*ceil(n, 64)*models >= hardwareWorkgroups {
		return DefaultMatmul
	}
	c := MatmulConfig{BM: 16, BN: 16, BK: 4, TM: 4, TN: 4, Vec4: true, Direct: true}
	if ceil(m, 16)*ceil(n, 16)*models < hardwareWorkgroups/2 && k >= 256 {
		c.BM, c.BN = 8, 8
	}
	perSlice := (c.BM / c.TM) * (c.BN / c.TN)
	s := 1
	for 2*s*16 <= k && 2*s*perSlice <= 256 && 4*2*s*(c.BM*c.BN+c.BN) <= 16384 {
		s *= 2
	}
	if s > 1 {
		c.SplitK = s
	}
	return c
}

// tuneKey buckets matmul shapes so that one measurement serves similar
// shapes: each dimension is rounded up to a power of two.
type tuneKey struct {
	m, k, n        int
	transA, transB bool
}

func pow2(x int) int {
	if x <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(x-1))
}

func bucket(m, k, n int, transA, transB bool) tuneKey {
	return tuneKey{pow2(m), pow2(k), pow2(n), transA, transB}
}

// matmulConfig returns the configuration for a matmul of this shape: the
// tuned one when autotuning is on and the shape's bucket has been measured,
// else DefaultMatmul.
func (b *Backend) matmulConfig(m, k, n int, transA, transB bool, models int) MatmulConfig {
	if b.forced != nil {
		return *b.forced
	}
	if !b.autotune {
		return defaultConfig(m, k, n, transA, transB, !b.adapter.Software(), models)
	}
	key := bucket(m, k, n, transA, transB)
	if c, ok := b.tuned[key]; ok {
		return c
	}
	c, err := b.tune(key)
	if err != nil {
		b.fail(err)
		c = DefaultMatmul
	}
	b.tuned[key] = c
	return c
}

// TuneResult is one measured candidate of a tuning run.
type TuneResult struct {
	Config  MatmulConfig
	Seconds float64 // median of the timed runs
	GFLOPS  float64
}

// tune measures every valid candidate (see candidates) on the bucket's shape, in scratch
// tensors, and returns the fastest. It runs once per bucket per Backend, and
// once per bucket per device with Options.TuneCache, the way Burn's
// autotune caches its choice.
func (b *Backend) tune(key tuneKey) (MatmulConfig, error) {
	res, err := b.measure(key, 3)
	if err != nil {
		return DefaultMatmul, err
	}
	best := res[0]
	for _, r := range res[1:] {
		if r.Seconds < best.Seconds {
			best = r
		}
	}
	b.stats.Tunings++
	b.tuneLog = append(b.tuneLog, fmt.Sprintf("matmul %dx%dx%d transA=%v transB=%v: %v (%.1f GFLOP/s)",
		key.m, key.k, key.n, key.transA, key.transB, best.Config, best.GFLOPS))
	if b.tuneCache != "" {
		b.saveTuneChoice(key, best.Config, best.GFLOPS)
	}
	return best.Config, nil
}

func (b *Backend) measure(key tuneKey, reps int) ([]TuneResult, error) {
	m, k, n := key.m, key.k, key.n
	ar, ac := m, k
	if key.transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if key.transB {
		br, bc = n, k
	}
	var scratch []*Tensor
	alloc := func(r, c int) (*Tensor, error) {
		size := byteSize(1, r, c, 0)
		if size > b.maxBinding {
			return nil, fmt.Errorf("autotune: %dx%d scratch exceeds binding limit", r, c)
		}
		t, err := b.newLocked(r, c)
		if err == nil {
			scratch = append(scratch, t)
		}
		return t, err
	}
	defer func() {
		for _, t := range scratch {
			b.freeLocked(t)
		}
	}()
	a, err := alloc(ar, ac)
	if err != nil {
		return nil, err
	}
	bt, err := alloc(br, bc)
	if err != nil {
		return nil, err
	}
	c, err := alloc(m, n)
	if err != nil {
		return nil, err
	}
	// run times count products of cfg recorded into one submission and
	// returns the seconds per product.
	run := func(cfg MatmulConfig, count int) float64 {
		start := time.Now()
		for range count {
			b.matmul(cfg, c, a, bt, m, k, n, key.transA, key.transB)
		}
		b.flush()
		b.wait()
		return time.Since(start).Seconds() / float64(count)
	}
	var out []TuneResult
	for _, cfg := range b.candidates(key) {
		run(cfg, 1) // warm-up, compiles
		count := 1
		if one := run(cfg, 1); one < tuneRepSeconds {
			count = min(64, int(tuneRepSeconds/max(one, 1e-7))+1)
		}
		times := make([]float64, reps)
		for r := range times {
			times[r] = run(cfg, count)
		}
		if b.err != nil {
			return nil, b.takeErr()
		}
		med := median(times)
		out = append(out, TuneResult{Config: cfg, Seconds: med, GFLOPS: 2 * float64(m) * float64(k) * float64(n) / med / 1e9})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("autotune: no matmul configuration fits adapter %s", b.adapter.Name)
	}
	return out, nil
}

// TuneLog lists the choices the autotuner made.
func (b *Backend) TuneLog() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.tuneLog...)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
