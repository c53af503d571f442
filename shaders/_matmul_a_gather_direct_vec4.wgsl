// _matmul_a_gather_direct_vec4: loadA of gather_matmul_bias_act under
// _matmul_direct, for k a multiple of 4: a row's four consecutive values of
// k are one word of src (four words for float32), widened and scaled with
// the arithmetic of _matmul_a_gather_vec4. The invocations of the first
// column (col0 = 0) store them in x as well.

fn loadA(row0: u32, col0: u32, k0: u32) {
  for (var r = 0u; r < TM; r++) {
    let row = row0 + r;
    var v = vec4<f32>(0.0);
    if (row < p.m) {
      let at = zModel * p.strideA + min(idx[zModel * p.strideIdx + p.offset + row], p.srcRows - 1u) * p.k + k0;
      if (p.isByte == 1u) {
        let w = src[at / 4u];
        v = vec4<f32>(f32(w & 0xffu), f32((w >> 8u) & 0xffu), f32((w >> 16u) & 0xffu), f32(w >> 24u)) * p.scale;
      } else {
        v = vec4<f32>(bitcast<f32>(src[at]), bitcast<f32>(src[at + 1u]), bitcast<f32>(src[at + 2u]), bitcast<f32>(src[at + 3u])) * p.scale;
      }
      if (col0 == 0u) {
        let o = zModel * p.strideX + row * p.k + k0;
        x[o] = v.x;
        x[o + 1u] = v.y;
        x[o + 2u] = v.z;
        x[o + 3u] = v.w;
      }
    }
    ra[r * 4u] = v.x;
    ra[r * 4u + 1u] = v.y;
    ra[r * 4u + 2u] = v.z;
    ra[r * 4u + 3u] = v.w;
  }
}
