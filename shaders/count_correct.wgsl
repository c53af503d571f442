// count_correct: count[0] += the number of rows whose prediction matches the
// labels. kind 0 (binary): out B×1 logits, correct when (z > 0) == (t > 0.5).
// kind 1 (softmax): out B×C, correct when the first largest logit is at the
// class index held in labels (B×1). One workgroup of 256 invocations.
// Bindings: 1 count (read-write, 1 element), 2 out, 3 labels.
struct Params {
  rows: u32,
  cols: u32,
  kind: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> count: array<f32>;
@group(0) @binding(2) var<storage, read> out: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<f32>;

//!include _sum256

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lane: u32) {
  var s = 0.0;
  for (var i = lane; i < p.rows; i += 256u) {
    var ok = false;
    if (p.kind == 0u) {
      ok = (out[i] > 0.0) == (labels[i] > 0.5);
    } else {
      let base = i * p.cols;
      var best = 0u;
      for (var j = 1u; j < p.cols; j++) {
        if (out[base + j] > out[base + best]) {
          best = j;
        }
      }
      ok = best == u32(labels[i]);
    }
    s += select(0.0, 1.0, ok);
  }
  let total = sum256(s, lane);
  if (lane == 0u) {
    count[0] = count[0] + total;
  }
}
