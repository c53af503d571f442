// matmul: c = op(a) · op(b), op(a) m×k, op(b) k×n, c m×n, all row-major.
// Bindings: 1 a (read), 2 b (read), 3 c (write).
// Host constants (this naga takes no constant expressions in array sizes or
// workgroup sizes, so the host also fills in the products): BM×BN output tile per workgroup, BK-deep slices of a and b
// staged in workgroup memory, each thread computing TM×TN outputs held in
// registers (register blocking). TRANS_A means a is stored k×m, TRANS_B means
// b is stored n×k, so one kernel serves X·W, Xᵀ·dY and dY·Wᵀ. Edges that are
// not multiples of the tile read zeros and skip their writes.
struct Params {
  m: u32,
  n: u32,
  k: u32,
  // rowBlock0 is the first BM-row block of this dispatch: the host splits
  // very large products into several dispatches of bounded size.
  rowBlock0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

const BM: u32 = {{BM}}u;
const BN: u32 = {{BN}}u;
const BK: u32 = {{BK}}u;
const TM: u32 = {{TM}}u;
const TN: u32 = {{TN}}u;
const TRANS_A: bool = {{TRANS_A}};
const TRANS_B: bool = {{TRANS_B}};
const TX: u32 = {{TX}}u; // BN / TN
const TY: u32 = {{TY}}u; // BM / TM
const THREADS: u32 = TX * TY;

// Tiles are stored k-major so the inner loop reads consecutive rows/columns.
var<workgroup> tileA: array<f32, {{BK_BM}}>;
var<workgroup> tileB: array<f32, {{BK_BN}}>;

// Element (row, col) of op(a), or 0 outside the m×k bounds.
fn loadA(row: u32, col: u32) -> f32 {
  if (row >= p.m || col >= p.k) {
    return 0.0;
  }
  if (TRANS_A) {
    return a[col * p.m + row];
  }
  return a[row * p.k + col];
}

// Element (row, col) of op(b), or 0 outside the k×n bounds.
fn loadB(row: u32, col: u32) -> f32 {
  if (row >= p.k || col >= p.n) {
    return 0.0;
  }
  if (TRANS_B) {
    return b[col * p.k + row];
  }
  return b[row * p.n + col];
}

@compute @workgroup_size(TX, TY, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tid = lid.y * TX + lid.x;
  let row0 = (wid.y + p.rowBlock0) * BM;
  let col0 = wid.x * BN;

  var acc: array<f32, {{TM_TN}}>;
  var ra: array<f32, {{TM}}>;
  var rb: array<f32, {{TN}}>;
  for (var i = 0u; i < TM * TN; i++) {
    acc[i] = 0.0;
  }

  for (var k0 = 0u; k0 < p.k; k0 += BK) {
    // Stage the tiles; consecutive threads read consecutive addresses of
    // the operand as it is stored, so the loads coalesce in either layout.
    for (var e = tid; e < BM * BK; e += THREADS) {
      var i: u32;
      var kk: u32;
      if (TRANS_A) {
        i = e % BM;
        kk = e / BM;
      } else {
        i = e / BK;
        kk = e % BK;
      }
      tileA[kk * BM + i] = loadA(row0 + i, k0 + kk);
    }
    for (var e = tid; e < BK * BN; e += THREADS) {
      var j: u32;
      var kk: u32;
      if (TRANS_B) {
        j = e / BK;
        kk = e % BK;
      } else {
        j = e % BN;
        kk = e / BN;
      }
      tileB[kk * BN + j] = loadB(k0 + kk, col0 + j);
    }
    workgroupBarrier();

    for (var kk = 0u; kk < BK; kk++) {
      for (var r = 0u; r < TM; r++) {
        ra[r] = tileA[kk * BM + lid.y + r * TY];
      }
      for (var s = 0u; s < TN; s++) {
        rb[s] = tileB[kk * BN + lid.x + s * TX];
      }
      for (var r = 0u; r < TM; r++) {
        for (var s = 0u; s < TN; s++) {
          acc[r * TN + s] = fma(ra[r], rb[s], acc[r * TN + s]);
        }
      }
    }
    workgroupBarrier();
  }

  for (var r = 0u; r < TM; r++) {
    let row = row0 + lid.y + r * TY;
    if (row >= p.m) {
      continue;
    }
    for (var s = 0u; s < TN; s++) {
      let col = col0 + lid.x + s * TX;
      if (col < p.n) {
        c[row * p.n + col] = acc[r * TN + s];
      }
    }
  }
}
