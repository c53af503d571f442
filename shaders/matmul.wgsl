// matmul: c = op(a) · op(b), op(a) m×k, op(b) k×n, c m×n, all row-major.
// Bindings: 1 a (read), 2 b (read), 3 c (write).
// The tiling and its host constants are in _matmul_core; AB is f32, or
// vec4<f32> for tile loads four elements wide (_matmul_load_vec4).
struct Params {
  m: u32,
  n: u32,
  k: u32,
  // rowBlock0 is the first BM-row block of this dispatch: the host splits
  // very large products into several dispatches of bounded size.
  rowBlock0: u32,
  // Model strides (see _matmul_core); strideD is not used.
  strideA: u32,
  strideB: u32,
  strideC: u32,
  strideD: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<{{AB}}>;
@group(0) @binding(2) var<storage, read> b: array<{{AB}}>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn store(row: u32, col: u32, v: f32) {
  c[oC + row * p.n + col] = v;
}

//!include _matmul_load_{{LOAD}}
//!include _matmul_no_sum
//!include _matmul_{{CORE}}
