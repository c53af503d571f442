package gpu

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gputrain/gputrain/backend"
	"github.com/gputrain/gputrain/conformance/conformancetest"
	"github.com/gputrain/gputrain/internal/philox"
	"github.com/gputrain/gputrain/shaders"
)

// philoxProbe runs _philox.wgsl's philox4x32_10 on n counters and keys, the
// first three Random123's known-answer inputs and the rest derived from
// the invocation's index, and stores each output word as its two 16-bit
// halves (floats that are exact integers, so no float conversion can
// change a bit).
const philoxProbe = `
struct Params {
  n: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
%s
fn counter(i: u32) -> vec4<u32> {
  switch i {
    case 0u: { return vec4<u32>(0u, 0u, 0u, 0u); }
    case 1u: { return vec4<u32>(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu); }
    case 2u: { return vec4<u32>(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u); }
    default: { return vec4<u32>(i * 0x9E3779B1u, i ^ 0xDEADBEEFu, ~i, i << 20u); }
  }
}
fn key(i: u32) -> vec2<u32> {
  switch i {
    case 0u: { return vec2<u32>(0u, 0u); }
    case 1u: { return vec2<u32>(0xffffffffu, 0xffffffffu); }
    case 2u: { return vec2<u32>(0xa4093822u, 0x299f31d0u); }
    default: { return vec2<u32>(i * 0x85EBCA6Bu + 0x12345678u, 0xffffffffu - 3u * i); }
  }
}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) {
    return;
  }
  let r = philox4x32_10(counter(i), key(i));
  for (var w = 0u; w < 4u; w++) {
    out[8u * i + 2u * w] = f32(r[w] & 0xffffu);
    out[8u * i + 2u * w + 1u] = f32(r[w] >> 16u);
  }
}
`

// probeInputs are philoxProbe's counter and key of invocation i, in Go.
func probeInputs(i uint32) ([4]uint32, [2]uint32) {
	switch i {
	case 0:
		return [4]uint32{}, [2]uint32{}
	case 1:
		return [4]uint32{^uint32(0), ^uint32(0), ^uint32(0), ^uint32(0)}, [2]uint32{^uint32(0), ^uint32(0)}
	case 2:
		return [4]uint32{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, [2]uint32{0xa4093822, 0x299f31d0}
	}
	return [4]uint32{i * 0x9E3779B1, i ^ 0xDEADBEEF, ^i, i << 20}, [2]uint32{i*0x85EBCA6B + 0x12345678, 0xffffffff - 3*i}
}

// TestPhiloxShaderMatchesGo: the WGSL Philox4x32-10 gives internal/philox's
// words bit for bit, on Random123's known answers and on 4096 other
// counters and keys (large words, carries through the 16-bit halves of
// its products).
func TestPhiloxShaderMatchesGo(t *testing.T) {
	b := openInternal(t)
	inc, err := shaders.Source("_philox", nil)
	require.NoError(t, err)
	const n = 4096
	out, err := b.New(n, 8, backend.Float)
	require.NoError(t, err)
	key := kernelKey{shader: shFill, cfg: MatmulConfig{BM: -1}} // no real variant has it
	b.mu.Lock()
	_, err = b.compile(key, "philox probe", fmt.Sprintf(philoxProbe, inc))
	if err == nil {
		p := struct {
			n uint32
			_ [3]uint32
		}{n: n}
		b.dispatch(key, paramBytes(&p), n/64, 1, 1, out.(*Tensor))
	}
	b.mu.Unlock()
	require.NoError(t, err)
	got, err := b.ReadFloats(out)
	require.NoError(t, err)
	mismatches := 0
	for i := uint32(0); i < n; i++ {
		c, k := probeInputs(i)
		want := philox.Block(c, k)
		for w := range 4 {
			g := uint32(got[8*i+2*uint32(w)]) | uint32(got[8*i+2*uint32(w)+1])<<16
			if g != want[w] && mismatches < 5 {
				t.Errorf("counter %08x key %08x: word %d is %08x, want %08x", c, k, w, g, want[w])
			}
			if g != want[w] {
				mismatches++
			}
		}
	}
	assert.Zero(t, mismatches, "words that differ")
}

// TestDropoutEveryCandidate runs the conformance suite's Dropout check
// (the mask exactly, the values within derived bounds; forward, gathered
// forward and backward) with each tile configuration the autotuner may
// pick forced on every product: tiled, direct, vec4 and scalar, split-k.
func TestDropoutEveryCandidate(t *testing.T) {
	probe := openInternal(t)
	limits := probe.adapter.Limits
	for _, cfg := range append(append([]MatmulConfig{}, MatmulCandidates...), SplitCandidates...) {
		if cfg.valid(limits) != nil {
			t.Logf("%v does not fit this adapter; skipped", cfg)
			continue
		}
		t.Run(cfg.String(), func(t *testing.T) {
			conformancetest.Dropout(t, openInternalWith(t, Options{Device: "any", Matmul: &cfg}))
		})
	}
}
