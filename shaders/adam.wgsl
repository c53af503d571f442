// adam: m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
// w -= lr · (m/c1) / (sqrt(v/c2) + eps), with the bias corrections
// c1 = 1-β1^t and c2 = 1-β2^t computed on the host.
// Bindings: 1 w (read-write), 2 g (read), 3 m (read-write), 4 v (read-write).
struct Params {
  n: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  c1: f32,
  c2: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  for (var i = gid.x; i < p.n; i += nwg.x * 256u) {
    let gi = g[i];
    let mi = p.beta1 * m[i] + (1.0 - p.beta1) * gi;
    let vi = p.beta2 * v[i] + (1.0 - p.beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i] - p.lr * (mi / p.c1) / (sqrt(vi / p.c2) + p.eps);
  }
}
