// Snippet: the interface every loss shader shares. out and labels are read;
// grad (same shape as out) is written; loss[0] accumulates the sum of the
// per-row losses. p holds out's shape.
struct Params {
  rows: u32,
  cols: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> loss: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;
@group(0) @binding(3) var<storage, read> out: array<f32>;
@group(0) @binding(4) var<storage, read> labels: array<f32>;
