// _matmul_a_direct_f32: loadA of _matmul_direct, one element per load.

// loadA fills ra with op(a)'s rows row0 … row0+TM−1 at k0 … k0+3, zeros
// outside the m×k bounds. a is stored m×k, or k×m with TRANS_A.
fn loadA(row0: u32, col0: u32, k0: u32) {
  for (var r = 0u; r < TM; r++) {
    for (var kk = 0u; kk < 4u; kk++) {
      let row = row0 + r;
      let k = k0 + kk;
      var v = 0.0;
      if (row < p.m && k < p.k) {
        if (TRANS_A) {
          v = a[oA + k * p.m + row];
        } else {
          v = a[oA + row * p.k + k];
        }
      }
      ra[r * 4u + kk] = v;
    }
  }
}
