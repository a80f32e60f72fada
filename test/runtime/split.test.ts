import assert from 'node:assert/strict';
import { GpuLimitError } from '../../src/errors.js';
import {
  acquireGpu,
  elementwiseDispatches,
  Program,
  splitElements,
  type Gpu,
} from '../../src/runtime/index.js';
import { affineF32 } from './kernels.js';

const MiB = 1024 * 1024;

describe('runtime binding split', () => {
  const cases = [
    { count: 0, widths: [4], max: 128 * MiB, align: 256, ranges: 0 },
    { count: 100, widths: [4], max: 128 * MiB, align: 256, ranges: 1 },
    { count: 32 * MiB, widths: [4, 4], max: 128 * MiB, align: 256, ranges: 1 },
    { count: 32 * MiB + 1, widths: [4, 4], max: 128 * MiB, align: 256, ranges: 2 },
    { count: 1000, widths: [2, 4], max: 1000, align: 16, ranges: 5 },
    { count: 1000, widths: [2], max: 1000, align: 256, ranges: 4 },
  ];
  for (const { count, widths, max, align, ranges } of cases) {
    it(`splits ${count} elements of ${widths.join('+')} bytes into ${ranges}`, () => {
      const split = splitElements(count, widths, max, align);
      assert.equal(split.length, ranges);
      let next = 0;
      for (const { start, count: size } of split) {
        assert.equal(start, next, 'ranges are contiguous');
        for (const width of widths) {
          assert.equal((start * width) % align, 0, `offset ${start * width} is aligned`);
          assert.ok(size * width <= max, `${size * width} bytes fit in ${max}`);
        }
        next = start + size;
      }
      assert.equal(next, count);
    });
  }

  it('rejects an element wider than a binding', () => {
    assert.throws(() => splitElements(10, [4], 200, 256), GpuLimitError);
  });

  it('rejects a negative element count', () => {
    assert.throws(() => splitElements(-1, [4], 1024, 16), RangeError);
  });
});

describe('runtime tensors over the binding limit', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  it('rejects binding a tensor whole', async () => {
    const limit = gpu.limits.maxStorageBufferBindingSize;
    const kernel = await affineF32(gpu);
    const big = gpu.createBuffer('activations', limit + 1024);
    const small = gpu.createBuffer('out', 1024);
    assert.throws(
      () => new Program(gpu, 'whole', [{ kernel, bindings: [big, small], workgroups: 1 }]),
      (error: Error) =>
        error instanceof GpuLimitError &&
        error.message.includes("'activations'") &&
        error.message.includes(`${limit + 1024} bytes`) &&
        error.message.includes(`maxStorageBufferBindingSize of ${limit} bytes`),
    );
    big.destroy();
    small.destroy();
  });

  it('computes an element-wise op over the limit', async function () {
    this.timeout(300_000);
    const limit = gpu.limits.maxStorageBufferBindingSize;
    const n = limit / 4 + 1_000_003;
    const input = new Float32Array(n);
    for (let i = 0; i < n; i++) input[i] = (i % 1021) - 510;
    const x = gpu.upload('x', input);
    const y = gpu.createBuffer('y', n * 4);
    const dispatches = elementwiseDispatches(gpu, {
      kernel: await affineF32(gpu),
      operands: [
        { buffer: x, bytesPerElement: 4 },
        { buffer: y, bytesPerElement: 4 },
      ],
      elementCount: n,
      elementsPerWorkgroup: 64,
      flopsPerElement: 2,
    });
    assert.ok(dispatches.length >= 2);
    new Program(gpu, 'affine', dispatches).submit();
    const output = await gpu.readF32(y, n);
    x.destroy();
    y.destroy();
    let wrong = -1;
    for (let i = 0; i < n && wrong < 0; i++) if (output[i] !== input[i]! * 2 + 1) wrong = i;
    assert.equal(wrong, -1, `first wrong element ${wrong} of ${n}`);
  });

  it('rejects operands shorter than the element count', () => {
    const x = gpu.createBuffer('short', 64);
    assert.throws(
      () =>
        elementwiseDispatches(gpu, {
          kernel: { spec: { name: 'k', source: '', bindings: [] } } as never,
          operands: [{ buffer: x, bytesPerElement: 4 }],
          elementCount: 100,
          elementsPerWorkgroup: 64,
        }),
      /'short' has 64 bytes, fewer than the 400 bytes/,
    );
    x.destroy();
  });
});
