// _matmul_a_ones_f32: stageA of matmul_column_sum with scalar loads. op(a)
// is xᵀ (x stored K×M, M = p.m − 1: TRANS_A) with a last row M of ones.

// Element (row, col) of op(a), or 0 outside its (M+1)×K bounds.
fn loadA(row: u32, col: u32) -> f32 {
  let rows = p.m - 1u;
  if (row > rows || col >= p.k) {
    return 0.0;
  }
  if (row == rows) {
    return 1.0;
  }
  return a[col * rows + row];
}

fn stageA(tid: u32, row0: u32, col0: u32, k0: u32) {
  for (var e = tid; e < BM * BK; e += THREADS) {
    let i = e % BM;
    let kk = e / BM;
    tileA[kk * BM + i] = loadA(row0 + i, k0 + kk);
  }
}
