// Row-major box copies between a channels-first tensor and a dense box: the patch and slice
// traffic of the Inferers.

/** Returns row-major strides of a shape (the last axis has stride 1). */
export function gridStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let axis = shape.length - 2; axis >= 0; axis--) {
    strides[axis] = strides[axis + 1]! * shape[axis + 1]!;
  }
  return strides;
}

/**
 * Calls `visit(boxOffset, gridOffset)` for every row (run along the last axis) of a box of
 * `size` placed at `start` in a grid of `spatial` voxels; offsets are flat voxel indices.
 */
export function forEachRow(
  spatial: readonly number[],
  start: readonly number[],
  size: readonly number[],
  visit: (boxOffset: number, gridOffset: number) => void,
): void {
  const gridStride = gridStrides(spatial);
  const rowLength = size.at(-1)!;
  const rows = size.slice(0, -1).reduce((total, extent) => total * extent, 1);
  const outer = size.slice(0, -1);
  for (let row = 0; row < rows; row++) {
    let remainder = row;
    let gridOffset = start.at(-1)!;
    for (let axis = outer.length - 1; axis >= 0; axis--) {
      const position = remainder % outer[axis]!;
      remainder = Math.floor(remainder / outer[axis]!);
      gridOffset += (start[axis]! + position) * gridStride[axis]!;
    }
    visit(row * rowLength, gridOffset);
  }
}

/** Copies the box at `start` of every channel of a `[C, ...spatial]` tensor into `target`. */
export function copyBox(
  source: Float32Array,
  shape: readonly number[],
  start: readonly number[],
  size: readonly number[],
  target: Float32Array,
): void {
  const [channels, ...spatial] = shape as [number, ...number[]];
  const voxels = spatial.reduce((total, extent) => total * extent, 1);
  const boxVoxels = size.reduce((total, extent) => total * extent, 1);
  const rowLength = size.at(-1)!;
  for (let channel = 0; channel < channels; channel++) {
    const input = source.subarray(channel * voxels, (channel + 1) * voxels);
    const output = target.subarray(channel * boxVoxels, (channel + 1) * boxVoxels);
    forEachRow(spatial, start, size, (boxOffset, gridOffset) => {
      output.set(input.subarray(gridOffset, gridOffset + rowLength), boxOffset);
    });
  }
}

/** Writes a `[C, ...size]` box into the box at `start` of a `[C, ...spatial]` tensor. */
export function pasteBox(
  box: Float32Array,
  shape: readonly number[],
  start: readonly number[],
  size: readonly number[],
  target: Float32Array,
): void {
  const [channels, ...spatial] = shape as [number, ...number[]];
  const voxels = spatial.reduce((total, extent) => total * extent, 1);
  const boxVoxels = size.reduce((total, extent) => total * extent, 1);
  const rowLength = size.at(-1)!;
  for (let channel = 0; channel < channels; channel++) {
    const input = box.subarray(channel * boxVoxels, (channel + 1) * boxVoxels);
    const output = target.subarray(channel * voxels, (channel + 1) * voxels);
    forEachRow(spatial, start, size, (boxOffset, gridOffset) => {
      output.set(input.subarray(boxOffset, boxOffset + rowLength), gridOffset);
    });
  }
}
