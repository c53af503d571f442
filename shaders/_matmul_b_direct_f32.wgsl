// _matmul_b_direct_f32: loadB of _matmul_direct, one element per load.

// loadB fills rb with op(b)'s columns col0 … col0+TN−1 at k0 … k0+3, zeros
// outside the k×n bounds. b is stored k×n, or n×k with TRANS_B.
fn loadB(col0: u32, k0: u32) {
  for (var kk = 0u; kk < 4u; kk++) {
    for (var s = 0u; s < TN; s++) {
      let k = k0 + kk;
      let col = col0 + s;
      var v = 0.0;
      if (k < p.k && col < p.n) {
        if (TRANS_B) {
          v = b[oB + col * p.k + k];
        } else {
          v = b[oB + k * p.n + col];
        }
      }
      rb[kk * TN + s] = v;
    }
  }
}
