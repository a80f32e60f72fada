import assert from 'node:assert/strict';
import { GpuLimitError } from '../../src/errors.js';
import { acquireGpu, foldWorkgroups, Program, type Gpu } from '../../src/runtime/index.js';
import { iotaU32 } from './kernels.js';

/** Checks y[i] = i + 1 everywhere and returns the first wrong index, or -1. */
function firstWrong(values: Uint32Array): number {
  for (let i = 0; i < values.length; i++) if (values[i] !== i + 1) return i;
  return -1;
}

describe('runtime workgroup folding', () => {
  const cases = [
    { count: 0, max: 65535 },
    { count: 1, max: 65535 },
    { count: 65535, max: 65535 },
    { count: 65536, max: 65535 },
    { count: 70000, max: 65535 },
    { count: 65535 * 65535, max: 65535 },
    { count: 65535 * 65535 + 1, max: 65535 },
    { count: 2 ** 40, max: 65535 },
    { count: 50, max: 7 },
    { count: 343, max: 7 },
    { count: 300, max: 7 },
  ];
  for (const { count, max } of cases) {
    it(`folds ${count} workgroups under ${max}`, () => {
      const [x, y, z] = foldWorkgroups(count, max);
      for (const side of [x, y, z]) assert.ok(side <= max, `side ${side} exceeds ${max}`);
      assert.ok(x * y * z >= count, `grid ${x}x${y}x${z} covers fewer than ${count}`);
      // The surplus is under one row of the grid, so few workgroups return early.
      assert.ok(x * y * z - count < x * y || count === 0, `grid ${x}x${y}x${z} wastes a slice`);
    });
  }

  const invalid = [-1, 1.5, Number.NaN, 8 ** 3 * 7 ** 3];
  for (const count of invalid) {
    it(`rejects ${count} workgroups`, () => {
      assert.throws(() => foldWorkgroups(count, count === 8 ** 3 * 7 ** 3 ? 7 : 65535), RangeError);
    });
  }
});

describe('runtime large dispatches', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  it('writes every element past 65535 workgroups', async () => {
    const workgroups = 65535 + 4000;
    const n = workgroups * 64 - 13;
    const y = gpu.createBuffer('y', n * 4);
    const program = new Program(gpu, 'iota', [
      { kernel: await iotaU32(gpu), bindings: [y], workgroups },
    ]);
    assert.deepEqual(program.dispatches[0]!.grid, foldWorkgroups(workgroups, 65535));
    assert.ok(program.dispatches[0]!.grid[1] > 1);
    program.submit();
    assert.equal(firstWrong(await gpu.readU32(y, n)), -1);
    y.destroy();
  });

  it('indexes a folded 3D grid', async () => {
    // A small maxPerDimension folds into three dimensions at a size lavapipe runs quickly.
    const workgroups = 7 * 7 * 5 + 3;
    const grid = foldWorkgroups(workgroups, 7);
    assert.ok(grid[2] > 1);
    const n = workgroups * 64;
    const y = gpu.createBuffer('y', n * 4);
    const kernel = await iotaU32(gpu);
    const encoder = gpu.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(
      0,
      gpu.device.createBindGroup({
        layout: kernel.layout,
        entries: [{ binding: 0, resource: { buffer: y } }],
      }),
    );
    pass.dispatchWorkgroups(...grid);
    pass.end();
    gpu.device.queue.submit([encoder.finish()]);
    assert.equal(firstWrong(await gpu.readU32(y, n)), -1);
    y.destroy();
  });

  it('rejects folding a kernel without linear_workgroup', async () => {
    const kernel = await gpu.kernel({
      name: 'flat_index',
      source: `@group(0) @binding(0) var<storage, read_write> y: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < arrayLength(&y)) { y[id.x] = id.x; }
}`,
      bindings: ['storage'],
    });
    const y = gpu.createBuffer('y', 4096);
    const workgroups = 70000;
    assert.doesNotThrow(
      () => new Program(gpu, 'small', [{ kernel, bindings: [y], workgroups: 65535 }]),
    );
    assert.throws(
      () => new Program(gpu, 'large', [{ kernel, bindings: [y], workgroups }]),
      (error: Error) =>
        error instanceof GpuLimitError &&
        error.message.includes('(flat_index)') &&
        error.message.includes('70000 workgroups') &&
        error.message.includes('65535'),
    );
    y.destroy();
  });
});
