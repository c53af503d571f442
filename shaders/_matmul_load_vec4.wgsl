// _matmul_load_vec4: how _matmul_core stages its tiles when a and b are
// array<vec4<f32>>: four consecutive elements of the stored operand per
// load (16-byte loads, a quarter of the load instructions). The host uses
// it only when the stored rows of a and b are whole vec4s (their lengths
// multiples of 4) and BM, BN and BK are multiples of 4, so a vec4 is either
// wholly inside an operand or wholly outside (read as zeros).
//!include _matmul_a_vec4
//!include _matmul_b_vec4
