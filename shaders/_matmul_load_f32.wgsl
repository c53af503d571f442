// _matmul_load_f32: how _matmul_core stages its tiles when a and b are
// array<f32>: one element per load, any shape. Consecutive threads read
// consecutive addresses of the operand as it is stored, so the loads
// coalesce in either layout.

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

// stageA copies the BM×BK slice of op(a) at (row0, k0) into tileA, k-major,
// zeros outside op(a).
fn stageA(tid: u32, row0: u32, k0: u32) {
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

// stageB copies the BK×BN slice of op(b) at (k0, col0) into tileB, k-major,
// zeros outside op(b).
fn stageB(tid: u32, col0: u32, k0: u32) {
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
}
