// momentum: v = mu·v + g', then w -= lr·v, over n elements, g' = g +
// wd·d·w (L2 weight decay folded into the gradient; d = decay[i], or 1 when
// hasDecay is 0).
// Clipping: with clip = hp[2] non-zero, g is first scaled by
// cs = min(1, clip/(sqrt(hp[3]) + 1e-6)), hp[3] the gradient's squared norm
// (grad_norm_sq.wgsl).
// Bindings: 1 w (read-write), 2 g (read), 3 v (read-write), 4 hp (read:
// [lr, wd, clip, |g|², mu] per model), 5 decay (read: per-element decay multipliers; g
// again when hasDecay is 0).
// Model arrays: workgroup_id.z is the model; each binding's model k starts
// at k times its stride in p (0 for a binding shared by every model).
struct Params {
  n: u32,
  strideW: u32,
  strideG: u32,
  strideV: u32,
  strideHP: u32,
  strideD: u32,
  hasDecay: u32,
  _pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read> hp: array<f32>;
@group(0) @binding(5) var<storage, read> decay: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let ow = gid.z * p.strideW;
  let og = gid.z * p.strideG;
  let ov = gid.z * p.strideV;
  let od = gid.z * p.strideD;
  let oh = gid.z * p.strideHP;
  let lr = hp[oh];
  let wd = hp[oh + 1u];
  let mu = hp[oh + 4u];
  let clip = hp[oh + 2u];
  var cs = 1.0;
  if (clip != 0.0) {
    cs = min(1.0, clip / (sqrt(hp[oh + 3u]) + 1e-6));
  }
  for (var i = gid.x; i < p.n; i += nwg.x * 256u) {
    let wi = w[ow + i];
    var gi = g[og + i];
    if (cs != 1.0) {
      gi = gi * cs;
    }
    if (wd != 0.0) {
      var d = 1.0;
      if (p.hasDecay != 0u) {
        d = decay[od + i];
      }
      gi = gi + wd * d * wi;
    }
    let vi = mu * v[ov + i] + gi;
    v[ov + i] = vi;
    w[ow + i] = wi - lr * vi;
  }
}
