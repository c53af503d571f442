// _matmul_core: the tiled product shared by matmul, matmul_bias_act and
// matmul_act_grad. The including shader declares the uniform p (with fields
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

const BM: u32 = {{BM}}u;
const BN: u32 = {{BN}}u;
const BK: u32 = {{BK}}u;
const TM: u32 = {{TM}}u;
const TN: u32 = {{TN}}u;
const TRANS_A: bool = {{TRANS_A}};
const TRANS_B: bool = {{TRANS_B}};
const TX: u32 = {{TX}}u; // BN / TN
const TY: u32 = {{TY}}u; // BM / TM
const THREADS: u32 = TX * TY;

// Tiles are stored k-major so the inner loop reads consecutive rows/columns.
var<workgroup> tileA: array<f32, {{BK_BM}}>;
var<workgroup> tileB: array<f32, {{BK_BN}}>;

// Element (row, col) of op(a), or 0 outside the m×k bounds.
fn loadA(row: u32, col: u32) -> f32 {
  if (row >= p.m || col >= p.k) {
    return 0.0;
  }
  if (TRANS_A) {
    return a[col * p.m + row];
  }
  return a[row * p.k + col];
}

// Element (row, col) of op(b), or 0 outside the k×n bounds.
fn loadB(row: u32, col: u32) -> f32 {
  if (row >= p.k || col >= p.n) {
    return 0.0;
  }
  if (TRANS_B) {
    return b[col * p.k + row];
  }
  return b[row * p.n + col];
}

@compute @workgroup_size(TX, TY, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tid = lid.y * TX + lid.x;
  let row0 = (wid.y + p.rowBlock0) * BM;
  let col0 = wid.x * BN;

  var acc: array<f32, {{TM_TN}}>;
  var ra: array<f32, {{TM}}>;
  var rb: array<f32, {{TN}}>;
  for (var i = 0u; i < TM * TN; i++) {
    acc[i] = 0.0;
  }

  for (var k0 = 0u; k0 < p.k; k0 += BK) {
    // Stage the tiles; consecutive threads read consecutive addresses of
    // the operand as it is stored, so the loads coalesce in either layout.
    for (var e = tid; e < BM * BK; e += THREADS) {
      var i: u32;
      var kk: u32;
      if (TRANS_A) {
        i = e % BM;
        kk = e / BM;
      } else {
        i = e / BK;
        kk = e % BK;
      }
      tileA[kk * BM + i] = loadA(row0 + i, k0 + kk);
    }
    for (var e = tid; e < BK * BN; e += THREADS) {
      var j: u32;
      var kk: u32;
      if (TRANS_B) {
        j = e / BK;
        kk = e % BK;
      } else {
        j = e % BN;
        kk = e / BN;
      }
      tileB[kk * BN + j] = loadB(k0 + kk, col0 + j);
    }
    workgroupBarrier();

    for (var kk = 0u; kk < BK; kk++) {
      for (var r = 0u; r < TM; r++) {
        ra[r] = tileA[kk * BM + lid.y + r * TY];
      }
      for (var s = 0u; s < TN; s++) {
        rb[s] = tileB[kk * BN + lid.x + s * TX];
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
}
