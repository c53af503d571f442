package gpu

import (
	"testing"

	"github.com/cogentcore/webgpu/wgpu"
	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/shaders"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openInternal opens a backend for tests inside the package (gputest cannot
// be imported here without a cycle); it follows the same skip rules.
func openInternal(t *testing.T) *Backend {
	t.Helper()
	b, err := Open(Options{Device: "any"})
	if err != nil {
		if requireGPU() {
			t.Fatalf("GPUTRAIN_REQUIRE_GPU=1 but no GPU backend: %v", err)
		}
		t.Skipf("no WebGPU adapter: %v (%s)", err, InstallHint)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// TestBindingLayout guards the unsafe casts in cgo.go: if the binding's
// Buffer or Device layout changes, the raw handles stop matching.
func TestBindingLayout(t *testing.T) {
	b := openInternal(t)
	buf, err := b.dev.CreateBuffer(&wgpu.BufferDescriptor{Size: 1234 * 4, Usage: wgpu.BufferUsageStorage})
	require.NoError(t, err)
	defer buf.Release()
	assert.Equal(t, buf.GetSize(), handleSize(buf), "raw buffer handle does not reach the same buffer")
	assert.Equal(t, deviceHandle(b.dev), deviceOfBuffer(buf), "raw device handle does not match the buffer's device")
}

// TestEveryShaderCompiles builds a pipeline from every embedded shader, all
// four operand layouts of matmul included.
func TestEveryShaderCompiles(t *testing.T) {
	b := openInternal(t)
	for _, name := range shaders.Names() {
		if name == "matmul" {
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					_, err := b.kernelFor(name, DefaultMatmul.consts(ta, tb))
					assert.NoError(t, err, "matmul transA=%v transB=%v", ta, tb)
				}
			}
			continue
		}
		_, err := b.kernelFor(name, nil)
		assert.NoError(t, err, name)
	}
}

// TestCompileErrorNamesShader checks that a WGSL error comes back as an
// error that names the shader and carries wgpu's message.
func TestCompileErrorNamesShader(t *testing.T) {
	b := openInternal(t)
	consts := DefaultMatmul.consts(false, false)
	consts["BM"] = "not_a_number"
	_, err := b.kernelFor("matmul", consts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "compile shader matmul")
	assert.Contains(t, err.Error(), "not_a_number")

	_, err = b.kernelFor("no_such_op", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no_such_op")
}

// TestMatmulConfigValidation checks the host's own workgroup-memory and
// invocation checks (the driver does not validate workgroup memory).
func TestMatmulConfigValidation(t *testing.T) {
	l := Limits{MaxComputeInvocationsPerWorkgroup: 256, MaxComputeWorkgroupStorageSize: 16384}
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
	// More dispatches than the arena has slots: the host must submit early
	// and keep the order.
	n := paramSlots*2 + 7
	for i := 0; i < n; i++ {
		b.SGD(x, one, -1) // x += 1
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
// the float32 dot-product error bound (k+2)·2⁻²⁴·Σ|a||b| (see backendtest).
func TestEveryMatmulCandidate(t *testing.T) {
	b := openInternal(t)
	m, k, n := 37, 45, 29
	for _, cfg := range MatmulCandidates {
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
	b, err := Open(Options{Device: "any", Autotune: true})
	if err != nil {
		t.Skipf("no adapter: %v", err)
	}
	defer b.Close()
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
