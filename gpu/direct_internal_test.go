package gpu

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDefaultConfigByShape: without autotuning the products of a batch-32
// step of 64-128-64-10 take the direct kernel with tiles fitted to their
// shapes, except the weight gradients (transposed a), which keep the
// 64×64 tiles, as do products above directMACs.
func TestDefaultConfigByShape(t *testing.T) {
	direct := func(bm, bn, tm, tn int) MatmulConfig {
		return MatmulConfig{BM: bm, BN: bn, BK: 4, TM: tm, TN: tn, Vec4: true, Direct: true}
	}
	tests := []struct {
		m, k, n        int
		transA, transB bool
		want           MatmulConfig
	}{
		{32, 64, 128, false, false, direct(32, 64, 8, 8)},  // x·w0
		{32, 64, 10, false, false, direct(32, 12, 8, 4)},   // y1·w2: 3×4 invocations
		{32, 64, 128, false, true, direct(32, 64, 8, 8)},   // d1·w1ᵀ
		{32, 10, 64, false, true, DefaultMatmul},           // d2·w2ᵀ: k = 10, no vec4
		{128, 32, 64, true, false, DefaultMatmul},          // y0ᵀ·d1
		{4, 3, 2, false, false, direct(4, 4, 4, 4)},        // tiny
		{512, 784, 128, false, false, DefaultMatmul},       // above directMACs
		{1024, 1024, 1024, false, false, DefaultMatmul},    // square
		{64, 64, 64, false, false, direct(64, 64, 8, 8)},   // 2^18
		{128, 64, 128, false, false, direct(64, 64, 8, 8)}, // 2^20: 2×2 workgroups
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, defaultConfig(tt.m, tt.k, tt.n, tt.transA, tt.transB, false, 1), "%dx%dx%d transA=%v transB=%v", tt.m, tt.k, tt.n, tt.transA, tt.transB)
		assert.NoError(t, tt.want.valid(webgpuDefaults))
	}
}

// webgpuDefaults are WebGPU's default limits, which every adapter meets.
var webgpuDefaults = Limits{MaxComputeInvocationsPerWorkgroup: 256, MaxComputeWorkgroupStorageSize: 16384, MaxComputeWorkgroupSizeZ: 64}

// TestHardwareConfigByShape: on a hardware GPU, products of fewer than
// hardwareWorkgroups 64×64 tiles split k on 16×16 blocks (8×8 when even
// those are few and k is long), with slices of at least 16 k; larger ones
// keep the tiles. Every choice fits WebGPU's default limits.
func TestHardwareConfigByShape(t *testing.T) {
	split := func(bm, s int) MatmulConfig {
		return MatmulConfig{BM: bm, BN: bm, BK: 4, TM: 4, TN: 4, Vec4: true, Direct: true, SplitK: s}
	}
	tests := []struct {
		m, k, n, models int
		want            MatmulConfig
	}{
		{32, 64, 128, 1, split(16, 4)},       // x·w0 at batch 32: 64 k, four slices of 16
		{32, 10, 64, 1, split(16, 0)},        // d2·w2ᵀ: k = 10, no split
		{1, 784, 128, 1, split(8, 32)},       // batch 1, first layer: 8×8 blocks, 32 slices of 24 or 28 k
		{784, 64, 128, 1, split(16, 4)},      // the first layer's weight gradient at batch 64
		{784, 4096, 128, 1, split(16, 8)},    // … at batch 4096: 26 tiles, 8 slices (16 KiB)
		{4096, 784, 128, 1, DefaultMatmul},   // 128 tiles
		{32, 64, 128, 64, DefaultMatmul},     // an array of 64 models: 128 tiles
		{32, 64, 128, 16, split(16, 4)},      // 32 tiles
		{1024, 1024, 1024, 1, DefaultMatmul}, // square
	}
	for _, tt := range tests {
		got := hardwareConfig(tt.m, tt.k, tt.n, tt.models)
		assert.Equal(t, tt.want, got, "%dx%dx%d models=%d", tt.m, tt.k, tt.n, tt.models)
		assert.NoError(t, got.valid(webgpuDefaults), "%v", got)
		assert.Equal(t, got, defaultConfig(tt.m, tt.k, tt.n, false, false, true, tt.models))
	}
}

// TestTuneCandidates: the autotuner measures the shape's default choice
// first, each configuration once and only those that fit, and the split-k
// kernels on hardware GPUs only.
func TestTuneCandidates(t *testing.T) {
	for _, typ := range []string{"cpu", "discrete"} {
		b := &Backend{adapter: Adapter{Type: typ, Limits: webgpuDefaults}}
		key := bucket(32, 64, 128, false, false)
		got := b.candidates(key)
		hw := typ != "cpu"
		assert.Equal(t, defaultConfig(32, 64, 128, false, false, hw, 1), got[0], typ)
		seen := map[MatmulConfig]bool{}
		splits := 0
		for _, c := range got {
			assert.False(t, seen[c], "%s: %v twice", typ, c)
			seen[c] = true
			assert.NoError(t, c.valid(webgpuDefaults))
			if c.split() {
				splits++
			}
		}
		if hw {
			assert.GreaterOrEqual(t, splits, len(SplitCandidates), typ)
		} else {
			assert.Zero(t, splits, typ)
		}
	}
}
