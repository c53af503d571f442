// softmax_ce: softmax cross-entropy. out (logits) is B×C, labels B×1 holds
// class indices as floats. Per row: l = logsumexp(z) - z[class], with the row
// maximum subtracted before exp; grad = (softmax(z) - onehot(class)) / B;
// loss[0] += Σ l. With count = 1, a row is right when its first largest
// logit is at the class. Labels are read through idx with gather = 1 (see
// _loss_io). One workgroup of 256 invocations, one row per invocation.
// With class weights (weighted = 1) l and grad are multiplied by the
// weight of the row's class.
// Bindings: 1 loss (read-write, 1 element), 2 grad (write), 3 out, 4 labels,
// 5 idx, 6 count (read-write, 1 element), 7 weights (C elements).
//!include _loss_io

//!include _sum256

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  setModel(wid.z);
  let inv = 1.0 / f32(p.rows);
  let c = p.cols;
  var s = 0.0;
  var n = 0.0;
  for (var i = lane; i < p.rows; i += 256u) {
    let base = oOut + i * c;
    var mx = out[base];
    var best = 0u;
    for (var j = 1u; j < c; j++) {
      let v = out[base + j];
      mx = max(mx, v);
      if (v > out[base + best]) {
        best = j;
      }
    }
    var se = 0.0;
    for (var j = 0u; j < c; j++) {
      se += exp(out[base + j] - mx);
    }
    let lse = mx + log(se);
    let cls = u32(labels[oLabels + labelRow(i)]);
    n += select(0.0, 1.0, best == cls);
    let w = classWeight(min(cls, c - 1u));
    s += w * (lse - out[base + min(cls, c - 1u)]);
    for (var j = 0u; j < c; j++) {
      let onehot = select(0.0, 1.0, j == cls);
      grad[oGrad + i * c + j] = w * (exp(out[base + j] - lse) - onehot) * inv;
    }
  }
  addSums(s, n, lane);
}
