// mse: mean squared error. out and labels are B×N.
// Per row: l = mean_j (out - labels)²; grad = 2(out - labels)/(B·N), the
// gradient of the mean loss; loss[0] += Σ l. Labels are read through idx
// with gather = 1 (see _loss_io); there is no count. One workgroup of 256
// invocations strides over the elements.
// Bindings: 1 loss (read-write, 1 element), 2 grad (write), 3 out, 4 labels,
// 5 idx, 6 count (unused).
//!include _loss_io

//!include _sum256

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  setModel(wid.z);
  let n = p.rows * p.cols;
  let scale = 2.0 / f32(n);
  var s = 0.0;
  for (var i = lane; i < n; i += 256u) {
    let e = out[oOut + i] - labels[oLabels + labelRow(i / p.cols) * p.cols + i % p.cols];
    s += e * e;
    grad[oGrad + i] = e * scale;
  }
  let total = sum256(s, lane);
  if (lane == 0u) {
    loss[oLoss] = loss[oLoss] + total / f32(p.cols);
  }
}
