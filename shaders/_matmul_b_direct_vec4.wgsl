// _matmul_b_direct_vec4: loadB of _matmul_direct when b is
// array<vec4<f32>>. b is stored k×n (n/4 vec4s a row: a vec4 is four
// columns at one k; TN and n are multiples of 4), or n×k with TRANS_B (k/4
// a row: a vec4 is a column's four values of k; k is a multiple of 4).

fn loadB(col0: u32, k0: u32) {
  if (TRANS_B) {
    for (var s = 0u; s < TN; s++) {
      var v = vec4<f32>(0.0);
      if (col0 + s < p.n) {
        v = b[oB + (col0 + s) * (p.k / 4u) + k0 / 4u];
      }
      rb[s] = v.x;
      rb[TN + s] = v.y;
      rb[2u * TN + s] = v.z;
      rb[3u * TN + s] = v.w;
    }
  } else {
    for (var kk = 0u; kk < 4u; kk++) {
      for (var q = 0u; q < TN / 4u; q++) {
        let g = 4u * q;
        var v = vec4<f32>(0.0);
        if (k0 + kk < p.k && col0 + g < p.n) {
          v = b[oB + (k0 + kk) * (p.n / 4u) + (col0 + g) / 4u];
        }
        rb[kk * TN + g] = v.x;
        rb[kk * TN + g + 1u] = v.y;
        rb[kk * TN + g + 2u] = v.z;
        rb[kk * TN + g + 3u] = v.w;
      }
    }
  }
}
