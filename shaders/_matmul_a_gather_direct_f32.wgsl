// _matmul_a_gather_direct_f32: loadA of gather_matmul_bias_act under
// _matmul_direct, one element per load: x's rows row0 … row0+TM−1 at k0 …
// k0+3, each gathered from src with gather.wgsl's arithmetic (see
// _matmul_a_gather_f32's loadGathered); the invocations of the first column
// (col0 = 0) store them in x as well, so every element of x is written
// once.
//!include _matmul_a_gather_load_f32

fn loadA(row0: u32, col0: u32, k0: u32) {
  for (var r = 0u; r < TM; r++) {
    for (var kk = 0u; kk < 4u; kk++) {
      let v = loadGathered(row0 + r, k0 + kk);
      ra[r * 4u + kk] = v;
      if (col0 == 0u && row0 + r < p.m && k0 + kk < p.k) {
        x[zModel * p.strideX + (row0 + r) * p.k + k0 + kk] = v;
      }
    }
  }
}
