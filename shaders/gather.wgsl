// gather: dst[i, :] = scale · src[idx[offset + i], :]. dst is rows×cols
// floats; src has srcRows rows of cols values, either float32 (isByte 0) or
// bytes packed four to a word (isByte 1, e.g. pixels kept 8-bit on the GPU);
// idx is a flat list of u32 row numbers, clamped to src's rows.
// Bindings: 1 dst (write), 2 src (read, as u32 words), 3 idx (read).
// Model arrays: workgroup_id.z is the model; each binding's model k starts
// at k times its stride in p (0 for a binding shared by every model).
// src's stride counts elements (bytes for a Byte src).
struct Params {
  rows: u32,
  cols: u32,
  offset: u32,
  srcRows: u32,
  isByte: u32,
  scale: f32,
  strideDst: u32,
  strideSrc: u32,
  strideIdx: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<u32>;
@group(0) @binding(3) var<storage, read> idx: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let total = p.rows * p.cols;
  let od = gid.z * p.strideDst;
  let os = gid.z * p.strideSrc;
  let oi = gid.z * p.strideIdx + p.offset;
  for (var e = gid.x; e < total; e += nwg.x * 256u) {
    let i = e / p.cols;
    let j = e % p.cols;
    let r = min(idx[oi + i], p.srcRows - 1u);
    let k = os + r * p.cols + j;
    var v: f32;
    if (p.isByte == 1u) {
      v = f32((src[k / 4u] >> ((k % 4u) * 8u)) & 0xffu);
    } else {
      v = bitcast<f32>(src[k]);
    }
    dst[od + e] = v * p.scale;
  }
}
