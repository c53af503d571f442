// _dropout: the dropout mask of the fused products (backend.Dropout). The
// including shader's Params has dropThreshold (philox.Threshold of P; 0:
// no dropout), dropScale (float32(1/(1−P))), dropSeedLo, dropSeedHi,
// dropStep, dropLayer and dropModel, added to the seed of model 0; zModel
// is the model (see _matmul_core). Element e of model zModel is kept when
// the first word of Philox4x32-10 of counter (e, step, layer, 0) under the
// 64-bit key seed + dropModel + zModel is at least the threshold: the draw
// of internal/philox.Draw that backend.Dropout.Keep makes.
//!include _philox

fn dropKeep(e: u32) -> bool {
  let m = p.dropModel + zModel;
  let lo = p.dropSeedLo + m;
  let hi = p.dropSeedHi + select(0u, 1u, lo < m);
  let r = philox4x32_10(vec4<u32>(e, p.dropStep, p.dropLayer, 0u), vec2<u32>(lo, hi));
  return r.x >= p.dropThreshold;
}

// dropForward is the dropped output of element e whose activation is v.
fn dropForward(e: u32, v: f32) -> f32 {
  if (p.dropThreshold == 0u) {
    return v;
  }
  return select(0.0, v * p.dropScale, dropKeep(e));
}
