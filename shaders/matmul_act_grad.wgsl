// matmul_act_grad: dz = (g · op(w)) ⊙ act'(z) in one dispatch: the
// gradient that backpropagation passes through a dense layer (g·wᵀ) and the
// previous layer's activation, with the derivative computed from that
// layer's output y = act(z). g m×k, op(w) k×n (a layer passes its n×k
// weights with TRANS_B), dz and y m×n.
// Bindings: 1 g (read), 2 w (read), 3 dz (write), 4 y (read).
// act: 0 identity, 1 sigmoid, 2 relu, 3 tanh. With a dropout (_dropout), y
// is the dropped output of the forward pass: the mask is drawn again, a
// dropped element's gradient is 0 and a kept one's is v · dropScale ·
// act'(z), the derivative taken from the undropped output y / dropScale.
//!include _matmul_act_io
@group(0) @binding(4) var<storage, read> y: array<f32>;

//!include _derivative
//!include _dropout

fn store(row: u32, col: u32, v: f32) {
  let i = row * p.n + col;
  if (p.dropThreshold == 0u) {
    c[oC + i] = v * derivative(y[oD + i], p.act);
    return;
  }
  var g = 0.0;
  if (dropKeep(i)) {
    g = v * p.dropScale * derivative(y[oD + i] / p.dropScale, p.act);
  }
  c[oC + i] = g;
}

//!include _matmul_load_{{LOAD}}
//!include _matmul_no_sum
//!include _matmul_{{CORE}}
