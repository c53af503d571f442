// bias_act: y = act(y + bias) in place; y is rows×cols, bias 1×cols.
// Bindings: 1 y (read-write), 2 bias (read).
// act: 0 identity, 1 sigmoid, 2 relu, 3 tanh.
struct Params {
  rows: u32,
  cols: u32,
  act: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;

//!include _activate

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let total = p.rows * p.cols;
  for (var i = gid.x; i < total; i += nwg.x * 256u) {
    y[i] = activate(y[i] + bias[i % p.cols], p.act);
  }
}
