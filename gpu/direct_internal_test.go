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
		assert.Equal(t, tt.want, defaultConfig(tt.m, tt.k, tt.n, tt.transA, tt.transB), "%dx%dx%d transA=%v transB=%v", tt.m, tt.k, tt.n, tt.transA, tt.transB)
		assert.NoError(t, tt.want.valid(Limits{MaxComputeInvocationsPerWorkgroup: 256, MaxComputeWorkgroupStorageSize: 16384}))
	}
}
