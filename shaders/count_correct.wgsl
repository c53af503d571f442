// count_correct: count[0] += the number of rows whose prediction matches the
// labels. kind 0 (binary): out B×1 logits, correct when (z > 0) == (t > 0.5).
// kind 1 (softmax): out B×C, correct when the first largest logit is at the
// class index held in labels (B×1). One workgroup of 256 invocations.
// Bindings: 1 count (read-write, 1 element), 2 out, 3 labels.
// Model arrays: workgroup_id.z is the model; each binding's model k starts
// at k times its stride in p (0 for a binding shared by every model).
struct Params {
  rows: u32,
  cols: u32,
  kind: u32,
  strideCount: u32,
  strideOut: u32,
  strideLabels: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> count: array<f32>;
@group(0) @binding(2) var<storage, read> out: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<f32>;

//!include _sum256

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let oo = wid.z * p.strideOut;
  let ol = wid.z * p.strideLabels;
  var s = 0.0;
  for (var i = lane; i < p.rows; i += 256u) {
    var ok = false;
    if (p.kind == 0u) {
      ok = (out[oo + i] > 0.0) == (labels[ol + i] > 0.5);
    } else {
      let base = oo + i * p.cols;
      var best = 0u;
      for (var j = 1u; j < p.cols; j++) {
        if (out[base + j] > out[base + best]) {
          best = j;
        }
      }
      ok = best == u32(labels[ol + i]);
    }
    s += select(0.0, 1.0, ok);
  }
  let total = sum256(s, lane);
  if (lane == 0u) {
    let oc = wid.z * p.strideCount;
    count[oc] = count[oc] + total;
  }
}
