// _matmul_core: the tiled product shared by matmul, matmul_bias_act,
// matmul_act_grad, gather_matmul_bias_act and matmul_column_sum. The including shader declares the uniform p (with fields
// m, n, k and rowBlock0), the operands a and b, and
// fn store(row: u32, col: u32, v: f32), which writes one element of the
// m×n product: plainly, or with its epilogue (bias and activation, or the
// activation's derivative) fused in, so that no second pass over the output
// is needed.
//
// Host constants (this naga takes no constant expressions in array sizes or
// workgroup sizes, so the host also fills in the products): BM×BN output
// tile per workgroup, BK-deep slices of a and b staged in workgroup memory,
// each thread computing TM×TN outputs held in registers (register blocking).
// TRANS_A means a is stored k×m, TRANS_B means b is stored n×k, so one
// kernel serves X·W, Xᵀ·dY and dY·Wᵀ. Edges that are not multiples of the
// tile read zeros and skip their writes.
//
// The including shader also brings the tile loaders, fn stageA(tid, row0,
// col0, k0) and fn stageB(tid, col0, k0), which copy the BM×BK slice of op(a)
// at (row0, k0) and the BK×BN slice of op(b) at (k0, col0) into tileA and
// tileB: usually _matmul_load_{{LOAD}}, where LOAD is f32 (any shape) or
// vec4 (16-byte loads, for operands whose stored rows are whole vec4s; a
// and b are then declared array<vec4<f32>>). stageA gets the tile's first
// column too, for loaders that also store what they load (the gather of
// gather_matmul_bias_act stores it from the first column of tiles only).
//
// With SUM_B the workgroups of the first row of tiles also add up, in order
// of k as a float32 running sum, the columns of op(b) as they pass through
// registers, and the first row of their invocations hands each column's sum
// to fn storeColumnSum(col, v) of the including shader (matmul_column_sum:
// the bias gradient in the weight gradient's dispatch, at the cost of TN
// additions per k in those workgroups only); the others include
// _matmul_no_sum.
//
// Model arrays: workgroup_id.z is the model, zModel. The including shader's
// p also has strideA, strideB, strideC and strideD, the model strides (in
// elements; 0 for a binding shared by every model) of a, b, c and its
// binding 4; main sets oA, oB (in units of a's and b's array elements: AW
// is 4 for vec4 loads, else 1), oC and oD, where model zModel starts in
// each, before any load or store.

const BM: u32 = {{BM}}u;
const BN: u32 = {{BN}}u;
const BK: u32 = {{BK}}u;
const TM: u32 = {{TM}}u;
const TN: u32 = {{TN}}u;
const TRANS_A: bool = {{TRANS_A}};
const TRANS_B: bool = {{TRANS_B}};
const SUM_B: bool = {{SUM_B}};
const TX: u32 = {{TX}}u; // BN / TN
const TY: u32 = {{TY}}u; // BM / TM
const THREADS: u32 = TX * TY;
const AW: u32 = {{AW}}u;

var<private> zModel: u32;
var<private> oA: u32;
var<private> oB: u32;
var<private> oC: u32;
var<private> oD: u32;

// Tiles are stored k-major so the inner loop reads consecutive rows/columns.
var<workgroup> tileA: array<f32, {{BK_BM}}>;
var<workgroup> tileB: array<f32, {{BK_BN}}>;

@compute @workgroup_size(TX, TY, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tid = lid.y * TX + lid.x;
  zModel = wid.z;
  oA = wid.z * p.strideA / AW;
  oB = wid.z * p.strideB / AW;
  oC = wid.z * p.strideC;
  oD = wid.z * p.strideD;
  let row0 = (wid.y + p.rowBlock0) * BM;
  let col0 = wid.x * BN;

  var acc: array<f32, {{TM_TN}}>;
  var ra: array<f32, {{TM}}>;
  var rb: array<f32, {{TN}}>;
  var colSum: array<f32, {{TN}}>;
  let sumHere = SUM_B && row0 == 0u;
  for (var i = 0u; i < TM * TN; i++) {
    acc[i] = 0.0;
  }

  for (var k0 = 0u; k0 < p.k; k0 += BK) {
    stageA(tid, row0, col0, k0);
    stageB(tid, col0, k0);
    workgroupBarrier();

    for (var kk = 0u; kk < BK; kk++) {
      for (var r = 0u; r < TM; r++) {
        ra[r] = tileA[kk * BM + lid.y + r * TY];
      }
      for (var s = 0u; s < TN; s++) {
        rb[s] = tileB[kk * BN + lid.x + s * TX];
      }
      if (sumHere) {
        for (var s = 0u; s < TN; s++) {
          colSum[s] += rb[s];
        }
      }
      for (var r = 0u; r < TM; r++) {
        for (var s = 0u; s < TN; s++) {
          acc[r * TN + s] = fma(ra[r], rb[s], acc[r * TN + s]);
        }
      }
    }
    workgroupBarrier();
  }

  for (var r = 0u; r < TM; r++) {
    let row = row0 + lid.y + r * TY;
    if (row >= p.m) {
      continue;
    }
    for (var s = 0u; s < TN; s++) {
      let col = col0 + lid.x + s * TX;
      if (col < p.n) {
        store(row, col, acc[r * TN + s]);
      }
    }
  }
  if (sumHere && lid.y == 0u) {
    for (var s = 0u; s < TN; s++) {
      let col = col0 + lid.x + s * TX;
      if (col < p.n) {
        storeColumnSum(col, colSum[s]);
      }
    }
  }
}
