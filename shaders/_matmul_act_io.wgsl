// _matmul_act_io: the uniform and the first three bindings of the fused
// products (matmul_bias_act, matmul_act_grad): _matmul_core's params plus
// the activation code, the dropout (_dropout), the operands a and b, and the
// output c. Each shader adds its binding 4 and its store.
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
  dropThreshold: u32,
  dropScale: f32,
  dropSeedLo: u32,
  dropSeedHi: u32,
  dropStep: u32,
  dropLayer: u32,
  dropModel: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<{{AB}}>;
@group(0) @binding(2) var<storage, read> b: array<{{AB}}>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
