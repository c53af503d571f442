// _matmul_a_vec4: how _matmul_core stages op(a) when a is
// array<vec4<f32>> (see _matmul_load_vec4): four consecutive elements of the
// stored operand per load.

// stageA copies the BM×BK slice of op(a) at (row0, k0) into tileA, k-major,
// zeros outside op(a). a is stored m×k (k/4 vec4s a row), or k×m with
// TRANS_A (m/4 a row); each vec4 runs along the stored row.
fn stageA(tid: u32, row0: u32, col0: u32, k0: u32) {
  for (var e = tid; e < BM * BK / 4u; e += THREADS) {
    if (TRANS_A) {
      let kk = e / (BM / 4u);
      let i = (e % (BM / 4u)) * 4u;
      var v = vec4<f32>(0.0);
      if (k0 + kk < p.k && row0 + i < p.m) {
        v = a[oA + (k0 + kk) * (p.m / 4u) + (row0 + i) / 4u];
      }
      tileA[kk * BM + i] = v.x;
      tileA[kk * BM + i + 1u] = v.y;
      tileA[kk * BM + i + 2u] = v.z;
      tileA[kk * BM + i + 3u] = v.w;
    } else {
      let i = e / (BK / 4u);
      let kk = (e % (BK / 4u)) * 4u;
      var v = vec4<f32>(0.0);
      if (row0 + i < p.m && k0 + kk < p.k) {
        v = a[oA + (row0 + i) * (p.k / 4u) + (k0 + kk) / 4u];
      }
      tileA[kk * BM + i] = v.x;
      tileA[(kk + 1u) * BM + i] = v.y;
      tileA[(kk + 2u) * BM + i] = v.z;
      tileA[(kk + 3u) * BM + i] = v.w;
    }
  }
}

