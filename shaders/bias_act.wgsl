// bias_act: y = act(y + bias) in place; y is rows×cols, bias 1×cols.
// Bindings: 1 y (read-write), 2 bias (read).
// Model arrays: workgroup_id.z is the model; each binding's model k starts
// at k times its stride in p (0 for a binding shared by every model).
// act: 0 identity, 1 sigmoid, 2 relu, 3 tanh.
struct Params {
  rows: u32,
  cols: u32,
  act: u32,
  strideY: u32,
  strideBias: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;

//!include _activate

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let total = p.rows * p.cols;
  let oy = gid.z * p.strideY;
  let ob = gid.z * p.strideBias;
  for (var i = gid.x; i < total; i += nwg.x * 256u) {
    y[oy + i] = activate(y[oy + i] + bias[ob + i % p.cols], p.act);
  }
}
