// softmax_ce: softmax cross-entropy. out (logits) is B×C, labels B×1 holds
// class indices as floats. Per row: l = logsumexp(z) - z[class], with the row
// maximum subtracted before exp; grad = (softmax(z) - onehot(class)) / B;
// loss[0] += Σ l. One workgroup of 256 invocations, one row per invocation.
// Bindings: 1 loss (read-write, 1 element), 2 grad (write), 3 out, 4 labels.
//!include _loss_io

//!include _sum256

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lane: u32) {
  let inv = 1.0 / f32(p.rows);
  let c = p.cols;
  var s = 0.0;
  for (var i = lane; i < p.rows; i += 256u) {
    let base = i * c;
    var mx = out[base];
    for (var j = 1u; j < c; j++) {
      mx = max(mx, out[base + j]);
    }
    var se = 0.0;
    for (var j = 0u; j < c; j++) {
      se += exp(out[base + j] - mx);
    }
    let lse = mx + log(se);
    let cls = u32(labels[i]);
    s += lse - out[base + min(cls, c - 1u)];
    for (var j = 0u; j < c; j++) {
      let onehot = select(0.0, 1.0, j == cls);
      grad[base + j] = (exp(out[base + j] - lse) - onehot) * inv;
    }
  }
  let total = sum256(s, lane);
  if (lane == 0u) {
    loss[0] = loss[0] + total;
  }
}
