// _matmul_splitk: _matmul_direct with k split over the workgroup's third
// dimension, for small products on a hardware GPU. A product of a few
// thousand outputs fills a handful of a GPU's multiprocessors, and each
// invocation of _matmul_direct walks all of k one load after another: the
// time is k times the memory latency, not the arithmetic. Here S
// invocations share each TM×TN block: slice z (local_invocation_id.z) takes
// the steps of four k at k0 = 4z, 4z + 4S, … with the same loaders
// (loadA, loadB) and registers as _matmul_direct, then the S partial sums
// meet in workgroup memory and slice 0 adds them in order of z and stores
// the output. The chain of dependent loads is S times shorter and the
// product has S times the invocations.
//
// Every output is a float32 sum of its k products, each a fused
// multiply-add: in order of k within a slice, then the slices' sums in
// order of z. The order differs from _matmul_direct's and is fixed, so the
// result is deterministic and within the same bound, (k+2)·2⁻²⁴·Σ|a·b|.
// With SUM_B the invocations of the first TM rows (row0 = 0) add up the
// columns of op(b) per slice, and slice 0 adds the slices' sums in order
// of z before storeColumnSum.
//
// The including shader declares what it does for _matmul_direct and
// includes the direct loaders. Model arrays: workgroup_id.z is the model,
// as in _matmul_core (zModel, oA, oB, oC, oD).

const BM: u32 = {{BM}}u;
const BN: u32 = {{BN}}u;
const TM: u32 = {{TM}}u;
const TN: u32 = {{TN}}u;
const S: u32 = {{S}}u;
const TRANS_A: bool = {{TRANS_A}};
const TRANS_B: bool = {{TRANS_B}};
const SUM_B: bool = {{SUM_B}};
const TX: u32 = {{TX}}u; // BN / TN
const TY: u32 = {{TY}}u; // BM / TM
const NT: u32 = TX * TY;
const AW: u32 = {{AW}}u;

var<private> zModel: u32;
var<private> oA: u32;
var<private> oB: u32;
var<private> oC: u32;
var<private> oD: u32;

var<private> ra: array<f32, {{TM4}}>;
var<private> rb: array<f32, {{TN4}}>;

// part[(z·TM·TN + i)·NT + t] is output i of invocation t's block in slice
// z: consecutive invocations write consecutive words.
var<workgroup> part: array<f32, {{PART}}>;
// colPart[(z·TN + s)·TX + x] is column s of invocation x's block in slice z.
var<workgroup> colPart: array<f32, {{CPART}}>;

@compute @workgroup_size(TX, TY, S)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  zModel = wid.z;
  oA = wid.z * p.strideA / AW;
  oB = wid.z * p.strideB / AW;
  oC = wid.z * p.strideC;
  oD = wid.z * p.strideD;
  let row0 = (wid.y + p.rowBlock0) * BM + lid.y * TM;
  let col0 = wid.x * BN + lid.x * TN;
  let t = lid.y * TX + lid.x;

  var acc: array<f32, {{TM_TN}}>;
  var colSum: array<f32, {{TN}}>;
  let sumHere = SUM_B && row0 == 0u;
  for (var i = 0u; i < TM * TN; i++) {
    acc[i] = 0.0;
  }
  for (var s = 0u; s < TN; s++) {
    colSum[s] = 0.0;
  }

  for (var k0 = 4u * lid.z; k0 < p.k; k0 += 4u * S) {
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

  for (var i = 0u; i < TM * TN; i++) {
    part[(lid.z * TM * TN + i) * NT + t] = acc[i];
  }
  if (sumHere) {
    for (var s = 0u; s < TN; s++) {
      colPart[(lid.z * TN + s) * TX + lid.x] = colSum[s];
    }
  }
  workgroupBarrier();
  if (lid.z != 0u) {
    return;
  }

  for (var r = 0u; r < TM; r++) {
    let row = row0 + r;
    if (row >= p.m) {
      break;
    }
    for (var s = 0u; s < TN; s++) {
      let col = col0 + s;
      if (col < p.n) {
        let i = r * TN + s;
        var v = part[i * NT + t];
        for (var z = 1u; z < S; z++) {
          v += part[(z * TM * TN + i) * NT + t];
        }
        store(row, col, v);
      }
    }
  }
  if (sumHere) {
    for (var s = 0u; s < TN; s++) {
      let col = col0 + s;
      if (col < p.n) {
        var v = colPart[s * TX + lid.x];
        for (var z = 1u; z < S; z++) {
          v += colPart[(z * TN + s) * TX + lid.x];
        }
        storeColumnSum(col, v);
      }
    }
  }
}
