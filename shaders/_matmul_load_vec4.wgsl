// _matmul_load_vec4: how _matmul_core stages its tiles when a and b are
// array<vec4<f32>>: four consecutive elements of the stored operand per
// load (16-byte loads, a quarter of the load instructions). The host uses
// it only when the stored rows of a and b are whole vec4s (their lengths
// multiples of 4) and BM, BN and BK are multiples of 4, so a vec4 is either
// wholly inside an operand or wholly outside (read as zeros).

// stageA copies the BM×BK slice of op(a) at (row0, k0) into tileA, k-major,
// zeros outside op(a). a is stored m×k (k/4 vec4s a row), or k×m with
// TRANS_A (m/4 a row); each vec4 runs along the stored row.
fn stageA(tid: u32, row0: u32, k0: u32) {
  for (var e = tid; e < BM * BK / 4u; e += THREADS) {
    if (TRANS_A) {
      let kk = e / (BM / 4u);
      let i = (e % (BM / 4u)) * 4u;
      var v = vec4<f32>(0.0);
      if (k0 + kk < p.k && row0 + i < p.m) {
        v = a[(k0 + kk) * (p.m / 4u) + (row0 + i) / 4u];
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
        v = a[(row0 + i) * (p.k / 4u) + (k0 + kk) / 4u];
      }
      tileA[kk * BM + i] = v.x;
      tileA[(kk + 1u) * BM + i] = v.y;
      tileA[(kk + 2u) * BM + i] = v.z;
      tileA[(kk + 3u) * BM + i] = v.w;
    }
  }
}

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
        v = b[(col0 + j) * (p.k / 4u) + (k0 + kk) / 4u];
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
        v = b[(k0 + kk) * (p.n / 4u) + (col0 + j) / 4u];
      }
      tileB[kk * BN + j] = v.x;
      tileB[kk * BN + j + 1u] = v.y;
      tileB[kk * BN + j + 2u] = v.z;
      tileB[kk * BN + j + 3u] = v.w;
    }
  }
}
