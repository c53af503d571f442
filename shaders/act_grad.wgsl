// act_grad: d = d ⊙ act'(z) in place, with the derivative computed from the
// forward output y = act(z). d and y are n elements.
// Bindings: 1 d (read-write), 2 y (read).
// Model arrays: workgroup_id.z is the model; each binding's model k starts
// at k times its stride in p (0 for a binding shared by every model).
// act: 0 identity, 1 sigmoid y(1-y), 2 relu [y > 0], 3 tanh 1-y².
struct Params {
  n: u32,
  act: u32,
  strideD: u32,
  strideY: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> d: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;

//!include _derivative

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let od = gid.z * p.strideD;
  let oy = gid.z * p.strideY;
  for (var i = gid.x; i < p.n; i += nwg.x * 256u) {
    d[od + i] = d[od + i] * derivative(y[oy + i], p.act);
  }
}
