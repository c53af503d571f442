// _matmul_b_vec4: how _matmul_core stages op(b) when b is
// array<vec4<f32>> (see _matmul_load_vec4): four consecutive elements of the
// stored operand per load.

// stageB copies the BK×BN slice of op(b) at (k0, col0) into tileB, k-major,
// zeros outside op(b). b is stored k×n (n/4 vec4s a row), or n×k with
// TRANS_B (k/4 a row).
fn stageB(tid: u32, col0: u32, k0: u32) {
  for (var e = tid; e < BK * BN / 4u; e += THREADS) {
    if (TRANS_B) {
      let j = e / (BK / 4u);
      let kk = (e % (BK / 4u)) * 4u;
      var v = vec4<f32>(0.0);
      if (col0 + j < p.n && k0 + kk < p.k) {
        v = b[oB + (col0 + j) * (p.k / 4u) + (k0 + kk) / 4u];
      }
      tileB[kk * BN + j] = v.x;
      tileB[(kk + 1u) * BN + j] = v.y;
      tileB[(kk + 2u) * BN + j] = v.z;
      tileB[(kk + 3u) * BN + j] = v.w;
    } else {
      let kk = e / (BN / 4u);
      let j = (e % (BN / 4u)) * 4u;
      var v = vec4<f32>(0.0);
      if (k0 + kk < p.k && col0 + j < p.n) {
        v = b[oB + (k0 + kk) * (p.n / 4u) + (col0 + j) / 4u];
      }
      tileB[kk * BN + j] = v.x;
      tileB[kk * BN + j + 1u] = v.y;
      tileB[kk * BN + j + 2u] = v.z;
      tileB[kk * BN + j + 3u] = v.w;
    }
  }
}
