// The end of norm-backward-sums.wgsl when the weight and bias gradients have a pass of their
// own (see norm-sums-affine.wgsl).

const WRITES_AFFINE = false;

fn store_affine(g: u32, sum_dy: f32, sum_dy_xhat: f32) {}
