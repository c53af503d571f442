// fill: t[i] = value for the n elements of t.
// Bindings: 1 t (write).
// Model arrays: workgroup_id.z is the model; each binding's model k starts
// at k times its stride in p (0 for a binding shared by every model).
struct Params {
  n: u32,
  value: f32,
  strideT: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> t: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = gid.z * p.strideT;
  for (var i = gid.x; i < p.n; i += nwg.x * 256u) {
    t[o + i] = p.value;
  }
}
