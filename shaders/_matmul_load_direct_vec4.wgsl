// _matmul_load_direct_vec4: how _matmul_direct loads its registers when a
// and b are array<vec4<f32>>: four consecutive elements of the stored
// operand per load. The host uses it only where the stored rows of a and b
// are whole vec4s and TM and TN are multiples of 4, so a vec4 is either
// wholly inside an operand or wholly outside (read as zeros).
//!include _matmul_a_direct_vec4
//!include _matmul_b_direct_vec4
