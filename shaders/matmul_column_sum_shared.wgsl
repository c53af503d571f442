// matmul_column_sum_shared: matmul_column_sum for weight and bias gradients
// that are slices of one buffer (a model array's gradients, laid out model
// by model: each model's weight gradient, then its bias gradient, …). As
// two bindings their ranges would interleave and overlap, which WebGPU
// forbids for writable bindings; here one binding covers both, and dw and
// db start at words baseC and baseD of it.
// Bindings: 1 x (read), 2 dy (read), 3 dw and db (write).
struct Params {
  m: u32,
  n: u32,
  k: u32,
  rowBlock0: u32,
  strideA: u32,
  strideB: u32,
  strideC: u32,
  strideD: u32,
  baseC: u32,
  baseD: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<{{AB}}>;
@group(0) @binding(2) var<storage, read> b: array<{{AB}}>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn store(row: u32, col: u32, v: f32) {
  c[p.baseC + oC + row * p.n + col] = v;
}

// storeColumnSum writes the sum of dy's column col.
fn storeColumnSum(col: u32, v: f32) {
  c[p.baseD + oD + col] = v;
}

//!include _matmul_load_{{LOAD}}
//!include _matmul_{{CORE}}
