// Snippet: sum256 adds one value from each of the 256 invocations of a
// workgroup and returns the total (every invocation gets it). Must be called
// from uniform control flow.
var<workgroup> sumScratch: array<f32, 256>;

fn sum256(v: f32, lane: u32) -> f32 {
  sumScratch[lane] = v;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (lane < s) {
      sumScratch[lane] += sumScratch[lane + s];
    }
    workgroupBarrier();
  }
  let total = sumScratch[0];
  workgroupBarrier();
  return total;
}
