// matmul_column_sum: dw = xᵀ·dy and db = the column sums of dy in one
// dispatch: a dense layer's weight and bias gradients. x is K×M (a batch of
// K rows of M inputs), dy K×N, dw M×N, db 1×N: the product op(a)·op(b) with
// op(a) = xᵀ (TRANS_A) and op(b) = dy, with SUM_B on: the workgroups of the
// first row of tiles also add up dy's columns as they pass through
// registers, in order of k as a float32 running sum, and store them in db
// (see _matmul_core): the bias gradient costs no extra workgroups and no
// second pass over dy.
// Bindings: 1 x (read), 2 dy (read), 3 dw (write), 4 db (write).
struct Params {
  m: u32,
  n: u32,
  k: u32,
  rowBlock0: u32,
  strideA: u32,
  strideB: u32,
  strideC: u32,
  strideD: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<{{AB}}>;
@group(0) @binding(2) var<storage, read> b: array<{{AB}}>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> db: array<f32>;

fn store(row: u32, col: u32, v: f32) {
  c[oC + row * p.n + col] = v;
}

// storeColumnSum writes the sum of dy's column col.
fn storeColumnSum(col: u32, v: f32) {
  db[oD + col] = v;
}

//!include _matmul_load_{{LOAD}}
//!include _matmul_{{CORE}}
