// grad_norm_sq: hp[col] = Σ g² over the n elements of g, per model: the
// squared norm of a model's whole gradient, which the optimizers read to
// clip it. One workgroup per model: each of its 256 invocations sums the
// squares of every 256th element in order, then sum256 adds the 256
// partial sums in a tree (8 levels).
// Bindings: 1 hp (read-write: the optimizer's table), 2 g (read).
// Model arrays: workgroup_id.z is the model; each binding's model k starts
// at k times its stride in p (0 for a binding shared by every model).
struct Params {
  n: u32,
  strideHP: u32,
  strideG: u32,
  col: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> hp: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;

//!include _sum256

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let og = wid.z * p.strideG;
  var s = 0.0;
  for (var i = lid.x; i < p.n; i += 256u) {
    let v = g[og + i];
    s += v * v;
  }
  let t = sum256(s, lid.x);
  if (lid.x == 0u) {
    hp[wid.z * p.strideHP + p.col] = t;
  }
}
