// _matmul_b_f32: how _matmul_core stages op(b) when b is array<f32>: one
// element per load, any shape, coalesced in either layout.

// Element (row, col) of op(b), or 0 outside the k×n bounds.
fn loadB(row: u32, col: u32) -> f32 {
  if (row >= p.k || col >= p.n) {
    return 0.0;
  }
  if (TRANS_B) {
    return b[oB + col * p.k + row];
  }
  return b[oB + row * p.n + col];
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
