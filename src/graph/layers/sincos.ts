// The fixed sine-cosine position table of MONAI's build_sincos_position_embedding (temperature
// 10000), used by the positionalEmbedding layer with kind 'sincos'.

/**
 * Computes the position table [tokens, dim] over a 2D or 3D patch grid: per axis, sin and cos of
 * the grid index times 1 / 10000^(k / n) for k < n = dim / (2 * axes), with the axis blocks in
 * MONAI's order w, h(, d). The caller checks that dim is divisible by 2 * axes.
 */
export function sincosPositionTable(grid: readonly number[], dim: number): Float32Array {
  const axes = grid.length;
  const perAxis = dim / (2 * axes);
  const tokens = grid.reduce((a, b) => a * b, 1);
  const table = new Float32Array(tokens * dim);
  // MONAI orders the axis blocks w, h, d: axis 1, then 0, then 2.
  const blockOrder = axes === 2 ? [1, 0] : [1, 0, 2];
  for (let token = 0; token < tokens; token++) {
    const index: number[] = [];
    let rest = token;
    for (let axis = axes - 1; axis >= 0; axis--) {
      index[axis] = rest % grid[axis];
      rest = Math.floor(rest / grid[axis]);
    }
    blockOrder.forEach((axis, block) => {
      for (let k = 0; k < perAxis; k++) {
        const angle = index[axis] / Math.pow(10000, k / perAxis);
        table[token * dim + 2 * block * perAxis + k] = Math.sin(angle);
        table[token * dim + (2 * block + 1) * perAxis + k] = Math.cos(angle);
      }
    });
  }
  return table;
}
