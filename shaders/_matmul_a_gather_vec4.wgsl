// _matmul_a_gather_vec4: stageA of gather_matmul_bias_act four elements at a
// time, for k a multiple of 4: a row's four consecutive bytes are one word
// of src (four words for float32), widened and scaled with the arithmetic
// of _matmul_a_gather_f32 and gather.wgsl. The workgroups of the first
// column of tiles (col0 = 0) store them in x as well.

fn stageA(tid: u32, row0: u32, col0: u32, k0: u32) {
  for (var e = tid; e < BM * BK / 4u; e += THREADS) {
    let i = e / (BK / 4u);
    let kk = (e % (BK / 4u)) * 4u;
    let row = row0 + i;
    let col = k0 + kk;
    var v = vec4<f32>(0.0);
    if (row < p.m && col < p.k) {
      let at = zModel * p.strideA + min(idx[zModel * p.strideIdx + p.offset + row], p.srcRows - 1u) * p.k + col;
      if (p.isByte == 1u) {
        let w = src[at / 4u];
        v = vec4<f32>(f32(w & 0xffu), f32((w >> 8u) & 0xffu), f32((w >> 16u) & 0xffu), f32(w >> 24u)) * p.scale;
      } else {
        v = vec4<f32>(bitcast<f32>(src[at]), bitcast<f32>(src[at + 1u]), bitcast<f32>(src[at + 2u]), bitcast<f32>(src[at + 3u])) * p.scale;
      }
      if (col0 == 0u) {
        let o = zModel * p.strideX + row * p.k + col;
        x[o] = v.x;
        x[o + 1u] = v.y;
        x[o + 2u] = v.z;
        x[o + 3u] = v.w;
      }
    }
    tileA[kk * BM + i] = v.x;
    tileA[(kk + 1u) * BM + i] = v.y;
    tileA[(kk + 2u) * BM + i] = v.z;
    tileA[(kk + 3u) * BM + i] = v.w;
  }
}
