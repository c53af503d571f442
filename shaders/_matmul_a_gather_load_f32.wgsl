// _matmul_a_gather_load_f32: loadGathered, the gather of one element of x
// (see _matmul_a_gather_f32), shared by the tiled and the direct loaders.

// Element (row, col) of x, or 0 outside the m×k bounds.
fn loadGathered(row: u32, col: u32) -> f32 {
  if (row >= p.m || col >= p.k) {
    return 0.0;
  }
  let e = zModel * p.strideA + min(idx[zModel * p.strideIdx + p.offset + row], p.srcRows - 1u) * p.k + col;
  var v: f32;
  if (p.isByte == 1u) {
    v = f32((src[e / 4u] >> ((e % 4u) * 8u)) & 0xffu);
  } else {
    v = bitcast<f32>(src[e]);
  }
  return v * p.scale;
}
