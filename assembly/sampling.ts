// Coordinate helpers shared by the resampling kernels. A sample is inside the input when each
// coordinate lies in [0, n - 1], within EDGE_TOLERANCE voxel for rounding in the affines.

export const EDGE_TOLERANCE: f64 = 1e-5;

/**
 * Returns row r of the map applied to (i, j, k, 1), summed in the same order as the TypeScript
 * reference so that both round a coordinate identically (which matters for nearest at ties).
 */
@inline
export function mapRow(matrix: usize, r: i32, i: i32, j: i32, k: i32): f64 {
  const row = matrix + (<usize>r << 5);
  return load<f64>(row) * <f64>i + load<f64>(row, 8) * <f64>j + load<f64>(row, 16) * <f64>k + load<f64>(row, 24);
}

@inline
export function inside(coordinate: f64, n: i32): bool {
  return coordinate >= -EDGE_TOLERANCE && coordinate <= <f64>(n - 1) + EDGE_TOLERANCE;
}

@inline
export function clampCoordinate(coordinate: f64, n: i32): f64 {
  return min(max(coordinate, 0.0), <f64>(n - 1));
}

/** Returns the lower of the two voxels that bracket a clamped coordinate. */
@inline
export function lowerCorner(coordinate: f64, n: i32): i32 {
  return min(<i32>coordinate, max(n - 2, 0));
}

/** Rounds half up, and keeps the index in [0, n - 1] for samples within the edge tolerance. */
@inline
export function nearestIndex(coordinate: f64, n: i32): i32 {
  return min(max(<i32>Math.floor(coordinate + 0.5), 0), n - 1);
}

@inline
export function lerp(a: f32, b: f32, t: f32): f32 {
  return a + (b - a) * t;
}
