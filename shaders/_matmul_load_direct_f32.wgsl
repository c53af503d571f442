// _matmul_load_direct_f32: how _matmul_direct loads its registers when a
// and b are array<f32>: one element per load, any shape.
//!include _matmul_a_direct_f32
//!include _matmul_b_direct_f32
