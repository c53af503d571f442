// _matmul_a_gather_f32: stageA of gather_matmul_bias_act, one element per
// load. op(a) is x (m×k, not
// transposed), whose row i is scale · src[idx[offset + i], :]; each element
// is gathered as it is staged, with gather.wgsl's arithmetic (a byte widened
// to f32, or a float's bits, times scale), and the workgroups of the first
// column of tiles (col0 = 0) store it in x as well: every element of x is
// written once, by the one workgroup that stages it there.

//!include _matmul_a_gather_load_f32

fn stageA(tid: u32, row0: u32, col0: u32, k0: u32) {
  for (var e = tid; e < BM * BK; e += THREADS) {
    let i = e / BK;
    let kk = e % BK;
    let v = loadGathered(row0 + i, k0 + kk);
    tileA[kk * BM + i] = v;
    if (col0 == 0u && row0 + i < p.m && k0 + kk < p.k) {
      x[zModel * p.strideX + (row0 + i) * p.k + k0 + kk] = v;
    }
  }
}
