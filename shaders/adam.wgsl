// adam: m = β1·m + (1-β1)·g'; v = β2·v + (1-β2)·g'²;
// w -= lr · ((m/c1) / (sqrt(v/c2) + eps) + dw·d·w), with the bias
// corrections c1 = 1-β1^t and c2 = 1-β2^t, t = p.step, g' = g + wd·d·w
// (L2 weight decay folded into the gradient: PyTorch's Adam weight_decay)
// and dw the decoupled decay (AdamW's weight_decay); d = decay[i], or 1 when
// hasDecay is 0.
// Clipping: with clip = hp[2] non-zero, g is first scaled by
// cs = min(1, clip/(sqrt(hp[3]) + 1e-6)), hp[3] the gradient's squared norm
// (grad_norm_sq.wgsl).
// Bindings: 1 w (read-write), 2 g (read), 3 m (read-write), 4 v (read-write),
// 5 hp (read: [lr, wd, clip, |g|², β1, β2, eps, dw] per model), 6 decay (read:
// per-element decay multipliers; g again when hasDecay is 0).
// Model arrays: workgroup_id.z is the model; each binding's model k starts
// at k times its stride in p (0 for a binding shared by every model).
struct Params {
  n: u32,
  step: u32,
  strideW: u32,
  strideG: u32,
  strideM: u32,
  strideV: u32,
  strideHP: u32,
  strideD: u32,
  hasDecay: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> hp: array<f32>;
@group(0) @binding(6) var<storage, read> decay: array<f32>;

// correction returns 1 − β^t for β = 1 − d without cancellation: with
// c(a) = 1 − β^a, c(a+b) = c(a) + c(b) − c(a)·c(b), so c(t) is built by
// binary powering from c(1) = d (exact for β in [0.5, 1]), each step a
// sum of positive terms, to a relative error of a few float32 ulps per bit
// of t. (1 − pow(β, t) in float32 loses most of its digits to cancellation
// for β near 1, and pow is only as good as the driver's exp2 and log2.)
fn correction(d: f32, t: u32) -> f32 {
  var c = 0.0;    // 1 − β^(bits of t done so far)
  var sq = d;     // 1 − β^(2^i)
  var e = t;
  loop {
    if (e == 0u) {
      break;
    }
    if ((e & 1u) == 1u) {
      c = c + sq - c * sq;
    }
    sq = sq + sq - sq * sq;
    e = e >> 1u;
  }
  return c;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let ow = gid.z * p.strideW;
  let og = gid.z * p.strideG;
  let om = gid.z * p.strideM;
  let ov = gid.z * p.strideV;
  let od = gid.z * p.strideD;
  let oh = gid.z * p.strideHP;
  let lr = hp[oh];
  let wd = hp[oh + 1u];
  let beta1 = hp[oh + 4u];
  let beta2 = hp[oh + 5u];
  let eps = hp[oh + 6u];
  let dw = hp[oh + 7u];
  let clip = hp[oh + 2u];
  var cs = 1.0;
  if (clip != 0.0) {
    cs = min(1.0, clip / (sqrt(hp[oh + 3u]) + 1e-6));
  }
  let c1 = correction(1.0 - beta1, p.step);
  let c2 = correction(1.0 - beta2, p.step);
  for (var i = gid.x; i < p.n; i += nwg.x * 256u) {
    let wi = w[ow + i];
    var d = 1.0;
    if (p.hasDecay != 0u) {
      d = decay[od + i];
    }
    var gi = g[og + i];
    if (cs != 1.0) {
      gi = gi * cs;
    }
    if (wd != 0.0) {
      gi = gi + wd * d * wi;
    }
    let mi = beta1 * m[om + i] + (1.0 - beta1) * gi;
    let vi = beta2 * v[ov + i] + (1.0 - beta2) * gi * gi;
    m[om + i] = mi;
    v[ov + i] = vi;
    var u = (mi / c1) / (sqrt(vi / c2) + eps);
    if (dw != 0.0) {
      u = u + dw * d * wi;
    }
    w[ow + i] = wi - lr * u;
  }
}
