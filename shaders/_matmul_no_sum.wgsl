// _matmul_no_sum: the storeColumnSum of the tiled products that leave
// SUM_B off (see _matmul_core); it is never called.
fn storeColumnSum(col: u32, v: f32) {}
