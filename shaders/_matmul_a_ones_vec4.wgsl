// _matmul_a_ones_vec4: stageA of matmul_column_sum with 16-byte loads, for
// M a multiple of 4. op(a) is xᵀ (x stored K×M, M = p.m − 1: TRANS_A, M/4
// vec4s a stored row) with a last row M of ones: the four rows M … M+3 are
// read as (1, 0, 0, 0).

fn stageA(tid: u32, row0: u32, col0: u32, k0: u32) {
  let rows = p.m - 1u;
  for (var e = tid; e < BM * BK / 4u; e += THREADS) {
    let kk = e / (BM / 4u);
    let i = (e % (BM / 4u)) * 4u;
    var v = vec4<f32>(0.0);
    if (k0 + kk < p.k) {
      if (row0 + i < rows) {
        v = a[(k0 + kk) * (rows / 4u) + (row0 + i) / 4u];
      } else if (row0 + i == rows) {
        v = vec4<f32>(1.0, 0.0, 0.0, 0.0);
      }
    }
    tileA[kk * BM + i] = v.x;
    tileA[kk * BM + i + 1u] = v.y;
    tileA[kk * BM + i + 2u] = v.z;
    tileA[kk * BM + i + 3u] = v.w;
  }
}
