// _matmul_load_f32: how _matmul_core stages its tiles when a and b are
// array<f32>: one element per load, any shape. Consecutive threads read
// consecutive addresses of the operand as it is stored, so the loads
// coalesce in either layout.
//!include _matmul_a_f32
//!include _matmul_b_f32
