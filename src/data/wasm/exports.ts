// The raw exports of build/clinicadl.wasm (assembly/index.ts). Pointers and sizes are i32;
// volumes are f32 in x-fastest voxel order. Only src/data/wasm/kernels.ts calls these.

export interface WasmExports {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  free(ptr: number): void;
  permuteFlip(
    src: number,
    nx: number,
    ny: number,
    nz: number,
    dst: number,
    packedAxes: number,
    flips: number,
  ): void;
  cropPad(
    src: number,
    nx: number,
    ny: number,
    nz: number,
    dst: number,
    ox: number,
    oy: number,
    oz: number,
    x0: number,
    y0: number,
    z0: number,
    fill: number,
  ): void;
  extractBoxes(
    src: number,
    nx: number,
    ny: number,
    nz: number,
    dst: number,
    ox: number,
    oy: number,
    oz: number,
    starts: number,
    count: number,
    fill: number,
  ): void;
  maskBoundingBox(mask: number, nx: number, ny: number, nz: number, box: number): number;
  resampleLinear: ResampleExport;
  resampleNearest: ResampleExport;
  countNonFinite(src: number, n: number): number;
  maskedStatistics(src: number, mask: number, n: number, out: number): void;
  maskedSquaredDeviation(src: number, mask: number, n: number, mean: number): number;
  subtractScale(src: number, dst: number, n: number, offset: number, scale: number): void;
  clamp(src: number, dst: number, n: number, low: number, high: number): void;
  gatherMasked(src: number, mask: number, n: number, dst: number): number;
  quantile(scratch: number, n: number, q: number): number;
  convolveAxis(
    src: number,
    dst: number,
    nx: number,
    ny: number,
    nz: number,
    axis: number,
    weights: number,
    radius: number,
    scratch: number,
  ): void;
  addGaussianNoise(src: number, dst: number, n: number, std: number, seed: number): void;
  multiplyBiasField(
    src: number,
    dst: number,
    nx: number,
    ny: number,
    nz: number,
    order: number,
    coefficients: number,
  ): void;
  gammaMap(src: number, dst: number, n: number, low: number, range: number, gamma: number): void;
  labelMask(labels: number, n: number, values: number, valueCount: number, dst: number): void;
  attenuate(src: number, weight: number, dst: number, n: number, factor: number): void;
}

export type ResampleExport = (
  src: number,
  nx: number,
  ny: number,
  nz: number,
  dst: number,
  ox: number,
  oy: number,
  oz: number,
  matrix: number,
  fill: number,
) => void;
