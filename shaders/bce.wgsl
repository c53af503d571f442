// bce: binary cross-entropy from logits. out (logits) and labels are B×1.
// Per row: l = max(z,0) - z·t + log1p(exp(-|z|)), finite for any z.
// grad = (sigmoid(z) - t) / B, the gradient of the mean loss; loss[0] += Σ l.
// With count = 1, a row is right when (z > 0) == (t > 0.5). Labels are read
// through idx with gather = 1 (see _loss_io). One workgroup of 256
// invocations strides over the rows.
// With class weights (weighted = 1) l and grad are multiplied by the
// weight of the row's class, 1 for t > 0.5, else 0.
// Bindings: 1 loss (read-write, 1 element), 2 grad (write), 3 out, 4 labels,
// 5 idx, 6 count (read-write, 1 element), 7 weights (2 elements).
//!include _loss_io

//!include _sigmoid
//!include _sum256

// log(1+x) accurate for small x (WGSL has no log1p).
fn log1p(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) {
    return x;
  }
  return log(u) * x / (u - 1.0);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  setModel(wid.z);
  let inv = 1.0 / f32(p.rows);
  var s = 0.0;
  var n = 0.0;
  for (var i = lane; i < p.rows; i += 256u) {
    let z = out[oOut + i];
    let t = labels[oLabels + labelRow(i)];
    let w = classWeight(select(0u, 1u, t > 0.5));
    s += w * (max(z, 0.0) - z * t + log1p(exp(-abs(z))));
    grad[oGrad + i] = w * (sigmoid(z) - t) * inv;
    n += select(0.0, 1.0, (z > 0.0) == (t > 0.5));
  }
  addSums(s, n, lane);
}
