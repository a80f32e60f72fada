// The end of norm-backward-sums.wgsl for a batch norm with weight and bias, whose groups are
// its channels: the group's sums of dy and dy * xhat are then the bias and weight gradients,
// so the kernel writes them too and no pass of its own computes them.

// Weight and bias gradients, GROUPS values each.
@group(0) @binding(5) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(6) var<storage, read_write> dbias: array<f32>;

const WRITES_AFFINE = true;

fn store_affine(g: u32, sum_dy: f32, sum_dy_xhat: f32) {
  dweight[g] = sum_dy_xhat;
  dbias[g] = sum_dy;
}
