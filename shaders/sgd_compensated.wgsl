// sgd_compensated: w -= lr·g with Kahan-compensated summation over n
// elements. c carries the low-order part of w that rounding dropped, so that
// many updates far below w's float32 precision still add up:
// y = −lr·g' − c; t = w + y; c = (t − w) − y; w = t, with g' = g + wd·w (L2
// weight decay on every element).
// Clipping: with clip = hp[2] non-zero, g is first scaled by
// cs = min(1, clip/(sqrt(hp[3]) + 1e-6)), hp[3] the gradient's squared norm
// (grad_norm_sq.wgsl).
// Bindings: 1 w (read-write), 2 g (read), 3 c (read-write), 4 hp (read:
// [lr, wd, clip, |g|²] per model).
// Model arrays: workgroup_id.z is the model; each binding's model k starts
// at k times its stride in p (0 for a binding shared by every model).
struct Params {
  n: u32,
  // one is 1.0, passed at run time: shader compilers treat float arithmetic
  // as reassociable (Mesa's NIR folds (w + y) − w − y to 0, which removes
  // the compensation), and a factor the compiler cannot see stops that.
  one: f32,
  strideW: u32,
  strideG: u32,
  strideC: u32,
  strideHP: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read> hp: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let ow = gid.z * p.strideW;
  let og = gid.z * p.strideG;
  let oc = gid.z * p.strideC;
  let oh = gid.z * p.strideHP;
  let lr = hp[oh];
  let wd = hp[oh + 1u];
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
      gi = gi + wd * wi;
    }
    let y = -lr * gi - c[oc + i];
    let t = wi + y;
    c[oc + i] = (t - wi * p.one) - y;
    w[ow + i] = t;
  }
}
