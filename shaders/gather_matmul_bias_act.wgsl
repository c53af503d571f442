// gather_matmul_bias_act: the gather of a minibatch and the forward pass of
// the first dense layer in one dispatch: x = scale · src[idx[offset + i], :]
// (as gather.wgsl computes it), y = act(x·w + bias) (as matmul_bias_act).
// x is m×k, src srcRows×k (float32, or bytes packed four to a word when
// isByte is 1), idx a flat list of row numbers (clamped to src's rows), w
// k×n, bias 1×n, y m×n. op(a) is gathered as its tiles are staged
// (_matmul_a_gather_{{LOAD}}: vec4 when k and n are multiples of 4); the
// workgroups of the first column of tiles also store it in x, which the
// backward pass reads.
// Bindings: 1 src (read, as u32 words), 2 w (read), 3 y (write), 4 bias
// (read), 5 idx (read), 6 x (write).
// act: 0 identity, 1 sigmoid, 2 relu, 3 tanh. The dropout (_dropout) is
// applied to the activation as y is stored.
struct Params {
  m: u32,
  n: u32,
  k: u32,
  rowBlock0: u32,
  strideA: u32,
  strideB: u32,
  strideC: u32,
  strideD: u32,
  act: u32,
  offset: u32,
  srcRows: u32,
  isByte: u32,
  scale: f32,
  // Model strides of idx and x (those of src, w, y and bias are strideA
  // to strideD, see _matmul_core).
  strideIdx: u32,
  strideX: u32,
  // The dropout (_dropout).
  dropThreshold: u32,
  dropScale: f32,
  dropSeedLo: u32,
  dropSeedHi: u32,
  dropStep: u32,
  dropLayer: u32,
  dropModel: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read> b: array<{{AB}}>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> idx: array<u32>;
@group(0) @binding(6) var<storage, read_write> x: array<f32>;

//!include _activate
//!include _dropout

fn store(row: u32, col: u32, v: f32) {
  let i = row * p.n + col;
  c[oC + i] = dropForward(i, activate(v + bias[oD + col], p.act));
}

//!include _matmul_a_gather_{{LOAD}}
//!include _matmul_b_{{LOAD}}
//!include _matmul_no_sum
//!include _matmul_{{CORE}}
