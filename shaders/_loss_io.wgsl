// Snippet: the interface every loss shader shares. out and labels are read;
// grad (same shape as out) is written; loss[0] accumulates the sum of the
// per-row losses. p holds out's shape. With gather = 1 the labels of out's
// row i are row idx[offset + i] of labels (clamped to its srcRows rows), as
// gather.wgsl reads rows; else row i. With count = 1 (bce and softmax_ce)
// count[0] also accumulates the number of rows predicted right, by
// count_correct.wgsl's rule. Where the host has no idx or count, it binds
// labels as idx and loss as count, which the shader then leaves alone.
// With weighted = 1 (bce and softmax_ce), row i's loss and gradient are
// multiplied by weights[class of row i] (the class weights); else the host
// binds out as weights, which the shader leaves alone.
// Model arrays: workgroup_id.z is the model (one workgroup each); each
// binding's model k starts at k times its stride in p (0 for a binding
// shared by every model), at the offsets o* that main sets with setModel
// before anything else.
struct Params {
  rows: u32,
  cols: u32,
  gather: u32,
  offset: u32,
  srcRows: u32,
  count: u32,
  strideLoss: u32,
  strideGrad: u32,
  strideOut: u32,
  strideLabels: u32,
  strideIdx: u32,
  strideCount: u32,
  weighted: u32,
  strideWeights: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> loss: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;
@group(0) @binding(3) var<storage, read> out: array<f32>;
@group(0) @binding(4) var<storage, read> labels: array<f32>;
@group(0) @binding(5) var<storage, read> idx: array<u32>;
@group(0) @binding(6) var<storage, read_write> count: array<f32>;
@group(0) @binding(7) var<storage, read> weights: array<f32>;

var<private> oLoss: u32;
var<private> oGrad: u32;
var<private> oOut: u32;
var<private> oLabels: u32;
var<private> oIdx: u32;
var<private> oCount: u32;
var<private> oWeights: u32;

// setModel sets the offsets of model z's elements in every binding.
fn setModel(z: u32) {
  oLoss = z * p.strideLoss;
  oGrad = z * p.strideGrad;
  oOut = z * p.strideOut;
  oLabels = z * p.strideLabels;
  oIdx = z * p.strideIdx;
  oCount = z * p.strideCount;
  oWeights = z * p.strideWeights;
}

// classWeight is the weight of class c: 1 without class weights.
fn classWeight(c: u32) -> f32 {
  if (p.weighted == 1u) {
    return weights[oWeights + c];
  }
  return 1.0;
}

// labelRow is the row of labels that holds the targets of out's row i.
fn labelRow(i: u32) -> u32 {
  if (p.gather == 1u) {
    return min(idx[oIdx + p.offset + i], p.srcRows - 1u);
  }
  return i;
}

// addSums adds the workgroup's loss sum s to loss[0] and, with count = 1,
// its correct count n to count[0]. Call from uniform control flow.
fn addSums(s: f32, n: f32, lane: u32) {
  let total = sum256(s, lane);
  if (lane == 0u) {
    loss[oLoss] = loss[oLoss] + total;
  }
  if (p.count == 1u) {
    let right = sum256(n, lane);
    if (lane == 0u) {
      count[oCount] = count[oCount] + right;
    }
  }
}
