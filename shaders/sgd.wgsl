// sgd: w -= lr · g over n elements.
// Bindings: 1 w (read-write), 2 g (read), 3 hp (read: [lr] per model).
// Model arrays: workgroup_id.z is the model; each binding's model k starts
// at k times its stride in p (0 for a binding shared by every model).
struct Params {
  n: u32,
  strideW: u32,
  strideG: u32,
  strideHP: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> hp: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let ow = gid.z * p.strideW;
  let og = gid.z * p.strideG;
  let lr = hp[gid.z * p.strideHP];
  for (var i = gid.x; i < p.n; i += nwg.x * 256u) {
    w[ow + i] = w[ow + i] - lr * g[og + i];
  }
}
