// column_sum: dst[j] = Σ_i src[i, j]; src is rows×cols, dst 1×cols (the bias
// gradient). Each workgroup owns 32 columns; 8 lanes per column stride over
// the rows (reads stay coalesced along a row), then the lanes are summed in
// workgroup memory.
// Bindings: 1 dst (write), 2 src (read).
// Model arrays: workgroup_id.z is the model; each binding's model k starts
// at k times its stride in p (0 for a binding shared by every model).
struct Params {
  rows: u32,
  cols: u32,
  strideDst: u32,
  strideSrc: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;

const COLS: u32 = 32u;
const LANES: u32 = 8u;

var<workgroup> partial: array<f32, 256>; // COLS * LANES;

@compute @workgroup_size(32, 8, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let col = wid.x * COLS + lid.x;
  let os = wid.z * p.strideSrc;
  var s = 0.0;
  if (col < p.cols) {
    for (var i = lid.y; i < p.rows; i += LANES) {
      s += src[os + i * p.cols + col];
    }
  }
  partial[lid.y * COLS + lid.x] = s;
  workgroupBarrier();
  if (lid.y == 0u && col < p.cols) {
    var t = 0.0;
    for (var l = 0u; l < LANES; l++) {
      t += partial[l * COLS + lid.x];
    }
    dst[wid.z * p.strideDst + col] = t;
  }
}
