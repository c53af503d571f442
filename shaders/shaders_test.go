package shaders

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSourceIncludesSnippets(t *testing.T) {
	src, err := Source("bce", nil)
	require.NoError(t, err)
	assert.Contains(t, src, "fn sum256(")                // from _sum256
	assert.Contains(t, src, "fn sigmoid(")               // from _sigmoid
	assert.Contains(t, src, "var<storage, read> labels") // from _loss_io
	assert.NotContains(t, src, "//!include")
}

func TestSourceFillsPlaceholders(t *testing.T) {
	consts := map[string]string{"BM": "64", "BN": "64", "BK": "16", "TM": "4", "TN": "4", "LOAD": "f32", "AB": "f32", "AW": "1",
		"TRANS_A": "false", "TRANS_B": "true", "TX": "16", "TY": "16", "BK_BM": "1024", "BK_BN": "1024", "TM_TN": "16", "SUM_B": "false", "CORE": "core"}
	src, err := Source("matmul", consts)
	require.NoError(t, err)
	assert.Contains(t, src, "const TRANS_B: bool = true;")
	assert.NotContains(t, src, "{{")

	delete(consts, "TRANS_B")
	_, err = Source("matmul", consts)
	assert.ErrorContains(t, err, "placeholder {{TRANS_B}} not filled")
}

// TestIncludeNamedByPlaceholder: matmul picks its tile loads with
// "//!include _matmul_load_{{LOAD}}".
func TestIncludeNamedByPlaceholder(t *testing.T) {
	consts := map[string]string{"BM": "64", "BN": "64", "BK": "16", "TM": "4", "TN": "4", "LOAD": "vec4", "AB": "vec4<f32>", "AW": "4",
		"TRANS_A": "false", "TRANS_B": "false", "TX": "16", "TY": "16", "BK_BM": "1024", "BK_BN": "1024", "TM_TN": "16", "SUM_B": "false", "CORE": "core"}
	src, err := Source("matmul", consts)
	require.NoError(t, err)
	assert.Contains(t, src, "var<storage, read> a: array<vec4<f32>>;")
	assert.Contains(t, src, "var v = vec4<f32>(0.0);") // from _matmul_load_vec4
	assert.NotContains(t, src, "fn loadA(")            // _matmul_load_f32 left out

	consts["LOAD"] = "f64"
	_, err = Source("matmul", consts)
	assert.ErrorContains(t, err, `includes "_matmul_load_f64"`)
}

// TestDirectCore: CORE picks the tiled core or the direct one, whose
// loaders LOAD names (direct_f32 or direct_vec4).
func TestDirectCore(t *testing.T) {
	for _, shader := range []string{"matmul", "matmul_bias_act", "matmul_act_grad", "matmul_column_sum", "gather_matmul_bias_act"} {
		consts := map[string]string{"BM": "32", "BN": "64", "BK": "4", "TM": "8", "TN": "8", "LOAD": "direct_vec4", "AB": "vec4<f32>", "AW": "4",
			"TRANS_A": "false", "TRANS_B": "false", "TX": "8", "TY": "4", "TM4": "32", "TN4": "32", "TM_TN": "64", "SUM_B": "false", "CORE": "direct"}
		src, err := Source(shader, consts)
		require.NoError(t, err, shader)
		assert.Contains(t, src, "fn loadA(", shader)
		assert.Contains(t, src, "var<private> ra: array<f32, 32>;", shader)
		assert.NotContains(t, src, "var<workgroup>", shader) // no staging, no barriers
		assert.NotContains(t, src, "workgroupBarrier", shader)
		assert.NotContains(t, src, "{{", shader)
	}
}

func TestSourceUnknownShader(t *testing.T) {
	_, err := Source("no_such_op", nil)
	assert.ErrorContains(t, err, `no shader "no_such_op"`)
}

func TestNamesLeaveOutSnippets(t *testing.T) {
	names := Names()
	assert.Contains(t, names, "matmul")
	for _, n := range names {
		assert.False(t, strings.HasPrefix(n, "_"), n)
	}
}

func TestFingerprint(t *testing.T) {
	f := Fingerprint()
	assert.Len(t, f, 16)
	assert.NotEqual(t, "unknown", f)
	assert.Equal(t, f, Fingerprint(), "stable")
}
