// _matmul_a_f32: how _matmul_core stages op(a) when a is array<f32>: one
// element per load, any shape. Consecutive threads read consecutive
// addresses of a as it is stored, so the loads coalesce in either layout.

// Element (row, col) of op(a), or 0 outside the m×k bounds.
fn loadA(row: u32, col: u32) -> f32 {
  if (row >= p.m || col >= p.k) {
    return 0.0;
  }
  if (TRANS_A) {
    return a[oA + col * p.m + row];
  }
  return a[oA + row * p.k + col];
}

// stageA copies the BM×BK slice of op(a) at (row0, k0) into tileA, k-major,
// zeros outside op(a).
fn stageA(tid: u32, row0: u32, col0: u32, k0: u32) {
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
}

