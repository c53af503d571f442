// _philox: Philox4x32-10 (Salmon et al., SC11), the counter-based generator
// of package internal/philox, in the same 32-bit integer arithmetic: WGSL
// has no 64-bit integers, so the 32×32-bit products are built from 16-bit
// halves, which gives Go's bits.Mul32 exactly.
fn philox_mulhilo(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  let hi = a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
  return vec2<u32>(hi, a * b);
}

// philox4x32_10 returns the four words of counter ctr under key key.
fn philox4x32_10(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var x = ctr;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) {
      k = k + vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
    }
    let h0 = philox_mulhilo(0xD2511F53u, x.x);
    let h1 = philox_mulhilo(0xCD9E8D57u, x.z);
    x = vec4<u32>(h1.x ^ x.y ^ k.x, h1.y, h0.x ^ x.w ^ k.y, h0.y);
  }
  return x;
}
