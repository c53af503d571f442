package gpu

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cogentcore/webgpu/wgpu"
	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/internal/testgpu"
	"github.com/gputrain/gputrain/shaders"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openInternal opens a backend for tests inside the package (gputest cannot
// be imported here without a cycle), by the rule of internal/testgpu.
func openInternal(t testing.TB) *Backend {
	t.Helper()
	return openInternalWith(t, Options{Device: "any"})
}

// openInternalWith is openInternal with explicit options.
func openInternalWith(t testing.TB, opts Options) *Backend {
	t.Helper()
	return testgpu.Open(t, func() (*Backend, error) { return Open(opts) }, InstallHint)
}

// openTimedInternal opens a backend with timestamps, failing where GPU
// tests are required and the adapter is Vulkan (lavapipe has timestamp
// queries) and skipping elsewhere when it records none.
func openTimedInternal(t *testing.T) *Backend {
	t.Helper()
	b := openInternalWith(t, Options{Device: "any", Timestamps: true})
	if b.ts == nil {
		testgpu.Lacks(t, b.adapter.API == "vulkan", "%s: no timestamp queries", b.adapter.Name)
	}
	return b
}

// TestSnapPeriod checks the choice between a measured timestamp period and
// the drivers' usual ones.
func TestSnapPeriod(t *testing.T) {
	tests := []struct {
		name             string
		measured, lo, hi float64
		want             float64
	}{
		{"nanosecond clock", 1.004, 0.99, 1.02, 1},
		{"bounds exclude 1", 1.2, 1.15, 1.25, 1.2},
		{"intel 19.2 MHz", 52.3, 51, 53, 1e3 / 19.2},
		{"amd 25 MHz", 39.2, 38, 41, 40},
		{"two in range: nearest", 45, 30, 60, 40},
		{"nothing in range", 3, 2.9, 3.1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, snapPeriod(tt.measured, tt.lo, tt.hi))
		})
	}
}

// TestTimestampCalibration checks the period that Open measures. Mesa's
// lavapipe counts nanoseconds (timestampPeriod 1), so there the measurement
// must land within 5% of 1 and snap to it: this is what shows that
// wgpu-native v22 resolves raw ticks that need no other scale there.
func TestTimestampCalibration(t *testing.T) {
	b := openTimedInternal(t)
	used, measured := b.TimestampPeriod()
	t.Logf("%s: measured %.5g ns/tick, using %g", b.adapter.Name, measured, used)
	assert.InEpsilon(t, used, measured, 0.05)
	if b.adapter.Software() && b.adapter.API == "vulkan" {
		assert.Equal(t, 1.0, used, "lavapipe counts nanoseconds")
	}
	assert.Zero(t, b.Stats().Submits, "calibration is not counted in Stats")
}

// TestTimestampFeatureMissing takes the path of an adapter without
// timestamp queries on whatever adapter there is: Open succeeds and the
// kernel time is unavailable.
func TestTimestampFeatureMissing(t *testing.T) {
	old := hasTimestampQuery
	hasTimestampQuery = func(*wgpu.Adapter) bool { return false }
	defer func() { hasTimestampQuery = old }()
	b := openInternalWith(t, Options{Device: "any", Timestamps: true})
	x, err := b.New(2, 2, backend.Float)
	require.NoError(t, err)
	b.Fill(x, 1)
	require.NoError(t, b.Sync())
	_, ok := b.KernelTime()
	assert.False(t, ok)
	assert.Nil(t, b.ts)
}

// TestTimestampSlotsOverflow records more timed passes between two Syncs
// than the query set has slots, in the two ways passes multiply: a submit
// per dispatch (each command buffer's slots start on a 32-slot boundary),
// and many passes in one command buffer. The backend must wait and read
// the slots early instead of overflowing, keep the results right and count
// every pass.
func TestTimestampSlotsOverflow(t *testing.T) {
	b := openTimedInternal(t)
	tests := []struct {
		name   string
		n      int
		split  func() // called after each dispatch
		drains uint64 // at least
	}{
		{"submit per dispatch", 3*tsQueries/tsBlock + 5, func() { b.mu.Lock(); b.flush(); b.mu.Unlock() }, 3},
		{"pass per dispatch", tsQueries + 9, func() { b.mu.Lock(); b.endPass(); b.mu.Unlock() }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := b.New(1, 1, backend.Float)
			require.NoError(t, err)
			one, err := b.New(1, 1, backend.Float)
			require.NoError(t, err)
			b.Fill(x, 0)
			b.Fill(one, 1)
			minusOne, err := backend.NewHP(b, 1, backend.SGDHP(-1))
			require.NoError(t, err)
			require.NoError(t, b.Sync())
			before := b.Stats()
			for i := 0; i < tt.n; i++ {
				b.SGD(x, one, minusOne, nil) // x += 1
				tt.split()
			}
			require.NoError(t, b.Sync())
			s := b.Stats()
			got, err := b.ReadFloats(x)
			require.NoError(t, err)
			assert.Equal(t, float64(tt.n), got[0])
			assert.Equal(t, uint64(tt.n), s.TimedPasses-before.TimedPasses)
			assert.GreaterOrEqual(t, s.TimestampDrains-before.TimestampDrains, tt.drains)
			assert.Zero(t, b.ts.wrapped)
			kernel, ok := b.KernelTime()
			require.True(t, ok)
			assert.Positive(t, kernel)
			b.Free(x)
			b.Free(one)
		})
	}
}

// TestEveryShaderCompiles builds a pipeline from every embedded shader, all
// four operand layouts and both load widths of the tiled products (matmul
// and the fused ones) included.
func TestEveryShaderCompiles(t *testing.T) {
	b := openInternal(t)
	for _, name := range shaders.Names() {
		sh, ok := shaderNamed(name)
		require.True(t, ok, "shader %s is not in shaderNames", name)
		if sh.product() {
			for _, cfg := range []MatmulConfig{DefaultMatmul, {BM: 64, BN: 64, BK: 16, TM: 4, TN: 4}} {
				for _, ta := range []bool{false, true} {
					for _, tb := range []bool{false, true} {
						_, err := b.kernelFor(kernelKey{shader: sh, cfg: cfg, transA: ta, transB: tb})
						assert.NoError(t, err, "%s %v transA=%v transB=%v", name, cfg, ta, tb)
					}
				}
			}
			continue
		}
		_, err := b.kernelFor(kernelKey{shader: sh})
		assert.NoError(t, err, name)
	}
}

// TestCompileErrorNamesShader checks that a WGSL error comes back as an
// error that names the shader and carries wgpu's message.
func TestCompileErrorNamesShader(t *testing.T) {
	b := openInternal(t)
	bad := MatmulConfig{BM: 64, BN: 64, BK: 0, TM: 4, TN: 4} // tiles of array<f32, 0>
	_, err := b.kernelFor(kernelKey{shader: shMatmul, cfg: bad})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "compile shader matmul")
	assert.Contains(t, err.Error(), "BK:0")
	assert.Contains(t, err.Error(), "array", "wgpu's message")
}

// TestShaderNames: shaderNames names exactly the embedded shaders, each
// once, so no kernelKey can name a shader that does not exist (an unknown
// name is shaders.Source's error, TestSourceUnknownShader).
func TestShaderNames(t *testing.T) {
	names := shaderNames[:]
	assert.ElementsMatch(t, shaders.Names(), names)
	for s, name := range names {
		assert.NotEmpty(t, name, "shader %d has no name", s)
	}
}

// shaderNamed returns the shader of the embedded file name.
func shaderNamed(name string) (shader, bool) {
	i := slices.Index(shaderNames[:], name)
	return shader(i), i >= 0
}

// TestMatmulConfigValidation checks the host's own workgroup-memory and
// invocation checks (the driver does not validate workgroup memory).
func TestMatmulConfigValidation(t *testing.T) {
	l := Limits{MaxComputeInvocationsPerWorkgroup: 256, MaxComputeWorkgroupStorageSize: 16384, MaxComputeWorkgroupSizeZ: 64}
	assert.NoError(t, DefaultMatmul.valid(l))
	assert.ErrorContains(t, MatmulConfig{BM: 128, BN: 128, BK: 32, TM: 8, TN: 8}.valid(l), "workgroup memory")
	assert.ErrorContains(t, MatmulConfig{BM: 64, BN: 64, BK: 8, TM: 2, TN: 2}.valid(l), "invocations")
	assert.ErrorContains(t, MatmulConfig{BM: 64, BN: 60, BK: 8, TM: 4, TN: 8}.valid(l), "divisible")
}

func TestParamsArenaOverflowFlushes(t *testing.T) {
	b := openInternal(t)
	x, err := b.New(1, 1, backend.Float)
	require.NoError(t, err)
	one, err := b.New(1, 1, backend.Float)
	require.NoError(t, err)
	b.Fill(x, 0)
	b.Fill(one, 1)
	minusOne, err := backend.NewHP(b, 1, backend.SGDHP(-1))
	require.NoError(t, err)
	// More dispatches than the arena has slots: the host must submit early
	// and keep the order.
	n := paramSlots*2 + 7
	for i := 0; i < n; i++ {
		b.SGD(x, one, minusOne, nil) // x += 1
	}
	got, err := b.ReadFloats(x)
	require.NoError(t, err)
	assert.Equal(t, float64(n), got[0])
	assert.GreaterOrEqual(t, b.Stats().Submits, uint64(3))
}

// TestReopen opens, uses and closes devices in turn: the second device must
// work after the first is closed (see release for the binding bug it guards).
func TestReopen(t *testing.T) {
	for i := 0; i < 3; i++ {
		b := openInternal(t)
		x, err := b.New(1, 1, backend.Float)
		require.NoError(t, err)
		b.Fill(x, float64(i))
		got, err := b.ReadFloats(x)
		require.NoError(t, err)
		assert.Equal(t, float64(i), got[0])
		require.NoError(t, b.Close())
	}
}

// TestEveryMatmulCandidate checks each tile configuration the autotuner may
// pick, in all four operand layouts, on shapes that are not multiples of any
// tile, against a float64 product of the same float32 inputs. The bound is
// the float32 dot-product error bound (k+2)·2⁻²⁴·Σ|a||b| (see conformance).
func TestEveryMatmulCandidate(t *testing.T) {
	b := openInternal(t)
	m, k, n := 37, 45, 29
	for _, cfg := range append(append([]MatmulConfig{}, MatmulCandidates...), SplitCandidates...) {
		if cfg.valid(b.adapter.Limits) != nil {
			t.Logf("%v does not fit this adapter; skipped", cfg)
			continue
		}
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				av := make([]float64, m*k)
				bv := make([]float64, k*n)
				for i := range av {
					av[i] = float64(float32(float64((i*7)%13)/13 - 0.4))
				}
				for i := range bv {
					bv[i] = float64(float32(float64((i*5)%11)/11 - 0.5))
				}
				ar, ac, br, bc := m, k, k, n
				if ta {
					ar, ac = k, m
				}
				if tb {
					br, bc = n, k
				}
				at, err := b.New(ar, ac, backend.Float)
				require.NoError(t, err)
				bt, err := b.New(br, bc, backend.Float)
				require.NoError(t, err)
				ct, err := b.New(m, n, backend.Float)
				require.NoError(t, err)
				require.NoError(t, b.WriteFloats(at, av))
				require.NoError(t, b.WriteFloats(bt, bv))
				b.mu.Lock()
				b.matmul(cfg, ct.(*Tensor), at.(*Tensor), bt.(*Tensor), m, k, n, ta, tb)
				b.mu.Unlock()
				got, err := b.ReadFloats(ct)
				require.NoError(t, err)
				getA := func(i, p int) float64 {
					if ta {
						return av[p*m+i]
					}
					return av[i*k+p]
				}
				getB := func(p, j int) float64 {
					if tb {
						return bv[j*k+p]
					}
					return bv[p*n+j]
				}
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						var want, mag float64
						for p := 0; p < k; p++ {
							want += getA(i, p) * getB(p, j)
							mag += abs(getA(i, p) * getB(p, j))
						}
						bound := float64(k+2) * 0x1p-24 * mag
						if d := abs(got[i*n+j] - want); d > bound {
							t.Fatalf("%v transA=%v transB=%v: c[%d,%d] = %v, want %v (|err| %g > bound %g)", cfg, ta, tb, i, j, got[i*n+j], want, d, bound)
						}
					}
				}
				b.Free(at)
				b.Free(bt)
				b.Free(ct)
			}
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestAutotuneChoosesAndCaches(t *testing.T) {
	b := openInternalWith(t, Options{Device: "any", Autotune: true})
	a, _ := b.New(40, 30, backend.Float)
	w, _ := b.New(30, 20, backend.Float)
	c, _ := b.New(40, 20, backend.Float)
	b.MatMul(c, a, w, false, false)
	b.MatMul(c, a, w, false, false)
	require.NoError(t, b.Sync())
	log := b.TuneLog()
	require.Len(t, log, 1, "one tuning run per shape bucket")
	assert.Contains(t, log[0], "matmul 64x32x32")
}

// TestLargeMatmulIsSplit lowers the per-dispatch bound and checks that a
// product split over several dispatches gives the same result.
func TestLargeMatmulIsSplit(t *testing.T) {
	b := openInternal(t)
	old := maxDispatchMACs
	defer func() { maxDispatchMACs = old }()
	m, k, n := 200, 7, 9
	av := make([]float64, m*k)
	for i := range av {
		av[i] = float64(i%5) - 2
	}
	bv := make([]float64, k*n)
	for i := range bv {
		bv[i] = float64(i%3) - 1
	}
	run := func() []float64 {
		at, _ := b.New(m, k, backend.Float)
		bt, _ := b.New(k, n, backend.Float)
		ct, _ := b.New(m, n, backend.Float)
		require.NoError(t, b.WriteFloats(at, av))
		require.NoError(t, b.WriteFloats(bt, bv))
		b.MatMul(ct, at, bt, false, false)
		got, err := b.ReadFloats(ct)
		require.NoError(t, err)
		return got
	}
	whole := run()
	before := b.Stats().Dispatches
	maxDispatchMACs = int64(DefaultMatmul.BM) * int64(n) * int64(k) // one row block per dispatch
	split := run()
	assert.Equal(t, uint64(4), b.Stats().Dispatches-before, "200 rows in 64-row blocks: 4 dispatches")
	assert.Equal(t, whole, split) // same sums in the same order: bit-identical
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			want := 0.0
			for p := 0; p < k; p++ {
				want += av[i*k+p] * bv[p*n+j]
			}
			require.Equal(t, want, split[i*n+j], "c[%d,%d]", i, j) // small integers: exact
		}
	}
}

// TestVec4LoadsOnlyWhereTheyFit: with a vec4 configuration, a product whose
// stored rows are whole vec4s compiles the vec4 pipeline and one with an
// odd row length the scalar one, both giving the exact result (small
// integers).
func TestVec4LoadsOnlyWhereTheyFit(t *testing.T) {
	cfg := MatmulConfig{BM: 64, BN: 64, BK: 16, TM: 4, TN: 4, Vec4: true}
	tests := []struct {
		m, k, n        int
		transA, transB bool
		load           string
	}{
		{8, 12, 16, false, false, "vec4"},
		{8, 12, 16, true, true, "vec4"},
		{8, 13, 16, false, false, "f32"}, // a's rows are 13 long
		{6, 12, 16, true, false, "f32"},  // a stored k×m: rows 6 long
		{8, 12, 10, false, false, "f32"}, // b's rows are 10 long
	}
	for _, tt := range tests {
		b := openInternalWith(t, Options{Device: "any", Matmul: &cfg}) // a fresh pipeline cache
		ar, ac := tt.m, tt.k
		if tt.transA {
			ar, ac = tt.k, tt.m
		}
		br, bc := tt.k, tt.n
		if tt.transB {
			br, bc = tt.n, tt.k
		}
		av, bv := make([]float64, ar*ac), make([]float64, br*bc)
		for i := range av {
			av[i] = float64(i%7) - 3
		}
		for i := range bv {
			bv[i] = float64(i%5) - 2
		}
		a, _ := b.New(ar, ac, backend.Float)
		w, _ := b.New(br, bc, backend.Float)
		c, _ := b.New(tt.m, tt.n, backend.Float)
		require.NoError(t, b.WriteFloats(a, av))
		require.NoError(t, b.WriteFloats(w, bv))
		b.MatMul(c, a, w, tt.transA, tt.transB)
		got, err := b.ReadFloats(c)
		require.NoError(t, err)
		for i := range tt.m {
			for j := range tt.n {
				var want float64
				for p := range tt.k {
					x, y := av[i*tt.k+p], bv[p*tt.n+j]
					if tt.transA {
						x = av[p*tt.m+i]
					}
					if tt.transB {
						y = bv[j*tt.k+p]
					}
					want += x * y
				}
				require.Equal(t, want, got[i*tt.n+j], "%+v: c[%d][%d]", tt, i, j)
			}
		}
		require.Len(t, b.kernels, 1, "%+v compiles one pipeline", tt)
		var compiled string
		for _, k := range b.kernels {
			if strings.HasPrefix(k.name, "matmul") && strings.Contains(k.name, fmt.Sprintf("TRANS_A:%v TRANS_B:%v", tt.transA, tt.transB)) && strings.Contains(k.name, "LOAD:"+tt.load) {
				compiled = k.name
			}
		}
		assert.NotEmpty(t, compiled, "%+v: want a matmul pipeline with LOAD:%s", tt, tt.load)
		for _, x := range []backend.Tensor{a, w, c} {
			b.Free(x)
		}
	}
}

// TestForcedMatmulMustFit: Options.Matmul that the adapter cannot run is
// refused at Open with the configuration named.
func TestForcedMatmulMustFit(t *testing.T) {
	bad := MatmulConfig{BM: 64, BN: 64, BK: 6, TM: 4, TN: 4, Vec4: true}
	_, err := Open(Options{Device: "any", Matmul: &bad})
	if errors.Is(err, ErrNoAdapter) {
		testgpu.NoGPU(t, err, InstallHint)
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), "64x64x6/4x4/vec4")
}
