// _matmul_a_direct_vec4: loadA of _matmul_direct when a is
// array<vec4<f32>>. a is stored m×k (k/4 vec4s a row: a vec4 is a row's
// four values of k; k is a multiple of 4), or k×m with TRANS_A (m/4 a row:
// a vec4 is four rows' values at one k; TM and m are multiples of 4).

fn loadA(row0: u32, col0: u32, k0: u32) {
  if (TRANS_A) {
    for (var kk = 0u; kk < 4u; kk++) {
      for (var q = 0u; q < TM / 4u; q++) {
        let g = 4u * q;
        var v = vec4<f32>(0.0);
        if (k0 + kk < p.k && row0 + g < p.m) {
          v = a[oA + (k0 + kk) * (p.m / 4u) + (row0 + g) / 4u];
        }
        ra[g * 4u + kk] = v.x;
        ra[(g + 1u) * 4u + kk] = v.y;
        ra[(g + 2u) * 4u + kk] = v.z;
        ra[(g + 3u) * 4u + kk] = v.w;
      }
    }
  } else {
    for (var r = 0u; r < TM; r++) {
      var v = vec4<f32>(0.0);
      if (row0 + r < p.m) {
        v = a[oA + (row0 + r) * (p.k / 4u) + k0 / 4u];
      }
      ra[r * 4u] = v.x;
      ra[r * 4u + 1u] = v.y;
      ra[r * 4u + 2u] = v.z;
      ra[r * 4u + 3u] = v.w;
    }
  }
}
