// _matmul_direct: the tiled products (matmul, matmul_bias_act,
// matmul_act_grad, gather_matmul_bias_act, matmul_column_sum) without
// workgroup memory: each invocation reads its operands straight from the
// storage buffers into registers and computes a TM×TN block of outputs, TM
// consecutive rows by TN consecutive columns, four steps of k at a time.
// A workgroup of TX×TY invocations covers BM = TY·TM rows and BN = TX·TN
// columns. With no staging there are no barriers, so nothing waits on the
// slowest invocation of a workgroup and the tile can be cut to the shape:
// a 32-row batch or a 10-wide layer is not padded to 64×64. It is the
// kernel the host picks for small products (see gpu.directConfig), where
// the 64×64 tiles of _matmul_core are mostly padding, and on a software
// adapter (lavapipe) staging through workgroup memory costs as much as the
// loads it saves, since every load and store there is a loop over the
// SIMD lanes and a barrier a switch between coroutines.
//
// The including shader declares what it does for _matmul_core (the uniform
// p, the operands, fn store, fn storeColumnSum) and includes the loaders
// fn loadA(row0, col0, k0) and fn loadB(col0, k0) that fill ra (op(a)'s TM
// rows × 4 values of k, row-major) and rb (op(b)'s 4 values of k × TN
// columns, row-major) with zeros outside the operands: usually
// _matmul_load_direct_{f32,vec4}. loadA gets the block's first column, for
// the gather's loader, which also stores what it loads from the invocations
// of the first column.
//
// Every output is the float32 sum of its k products in order of k, each one
// fused multiply-add, as in _matmul_core. With SUM_B the invocations of
// the first TM rows (row0 = 0) also add up, in order of k as a float32
// running sum, the columns of op(b) as they pass through registers, and hand
// each column's sum to storeColumnSum.
//
// Model arrays: workgroup_id.z is the model, as in _matmul_core (zModel, oA,
// oB, oC, oD).

const BM: u32 = {{BM}}u;
const BN: u32 = {{BN}}u;
const TM: u32 = {{TM}}u;
const TN: u32 = {{TN}}u;
const TRANS_A: bool = {{TRANS_A}};
const TRANS_B: bool = {{TRANS_B}};
const SUM_B: bool = {{SUM_B}};
const TX: u32 = {{TX}}u; // BN / TN
const TY: u32 = {{TY}}u; // BM / TM
const AW: u32 = {{AW}}u;

var<private> zModel: u32;
var<private> oA: u32;
var<private> oB: u32;
var<private> oC: u32;
var<private> oD: u32;

// ra[r * 4 + kk] is op(a)[row0 + r, k0 + kk]; rb[kk * TN + s] is
// op(b)[k0 + kk, col0 + s].
var<private> ra: array<f32, {{TM4}}>;
var<private> rb: array<f32, {{TN4}}>;

@compute @workgroup_size(TX, TY, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  zModel = wid.z;
  oA = wid.z * p.strideA / AW;
  oB = wid.z * p.strideB / AW;
  oC = wid.z * p.strideC;
  oD = wid.z * p.strideD;
  let row0 = (wid.y + p.rowBlock0) * BM + lid.y * TM;
  let col0 = wid.x * BN + lid.x * TN;

  var acc: array<f32, {{TM_TN}}>;
  var colSum: array<f32, {{TN}}>;
  let sumHere = SUM_B && row0 == 0u;
  for (var i = 0u; i < TM * TN; i++) {
    acc[i] = 0.0;
  }
  for (var s = 0u; s < TN; s++) {
    colSum[s] = 0.0;
  }

  for (var k0 = 0u; k0 < p.k; k0 += 4u) {
    loadA(row0, col0, k0);
    loadB(col0, k0);
    for (var kk = 0u; kk < 4u; kk++) {
      if (sumHere) {
        for (var s = 0u; s < TN; s++) {
          colSum[s] += rb[kk * TN + s];
        }
      }
      for (var r = 0u; r < TM; r++) {
        let av = ra[r * 4u + kk];
        for (var s = 0u; s < TN; s++) {
          acc[r * TN + s] = fma(av, rb[kk * TN + s], acc[r * TN + s]);
        }
      }
    }
  }

  for (var r = 0u; r < TM; r++) {
    let row = row0 + r;
    if (row >= p.m) {
      break;
    }
    for (var s = 0u; s < TN; s++) {
      let col = col0 + s;
      if (col < p.n) {
        store(row, col, acc[r * TN + s]);
      }
    }
  }
  if (sumHere) {
    for (var s = 0u; s < TN; s++) {
      let col = col0 + s;
      if (col < p.n) {
        storeColumnSum(col, colSum[s]);
      }
    }
  }
}
