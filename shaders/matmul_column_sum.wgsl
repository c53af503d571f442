// matmul_column_sum: dw = xᵀ·dy and db = the column sums of dy in one
// dispatch: a dense layer's weight and bias gradients. x is K×M (a batch of
// K rows of M inputs), dy K×N, dw M×N, db 1×N. The core runs with p.m = M+1:
// op(a) is xᵀ with one more row, all ones (_matmul_a_ones_{{LOAD}}), so row
// M of the product is Σ_k dy[k, :], summed in order of k as a float32
// running sum, and store sends it to db.
// Bindings: 1 x (read), 2 dy (read), 3 dw (write), 4 db (write).
struct Params {
  m: u32, // M + 1
  n: u32,
  k: u32,
  rowBlock0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<{{AB}}>;
@group(0) @binding(2) var<storage, read> b: array<{{AB}}>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> db: array<f32>;

fn store(row: u32, col: u32, v: f32) {
  if (row + 1u < p.m) {
    c[row * p.n + col] = v;
  } else {
    db[col] = v;
  }
}

//!include _matmul_a_ones_{{LOAD}}
//!include _matmul_b_{{LOAD}}
//!include _matmul_core
