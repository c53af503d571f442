// matmul_bias_act: y = act(x·w + bias), the forward pass of a dense layer in
// one dispatch: x m×k, w k×n, y m×n, bias 1×n (op(a) = x and op(b) = w; the
// transposes are available but the layer uses none).
// Bindings: 1 x (read), 2 w (read), 3 y (write), 4 bias (read).
// act: 0 identity, 1 sigmoid, 2 relu, 3 tanh. The dropout (_dropout) is
// applied to the activation as it is stored.
//!include _matmul_act_io
@group(0) @binding(4) var<storage, read> bias: array<f32>;

//!include _activate
//!include _dropout

fn store(row: u32, col: u32, v: f32) {
  let i = row * p.n + col;
  c[oC + i] = dropForward(i, activate(v + bias[oD + col], p.act));
}

//!include _matmul_load_{{LOAD}}
//!include _matmul_no_sum
//!include _matmul_{{CORE}}
