import assert from 'node:assert/strict';
import { GpuError } from '../../src/errors.js';
import { setLogSink } from '../../src/log.js';
import { acquireGpu, BufferUsage, Program, type Gpu } from '../../src/runtime/index.js';
import { affineF32, mixU32 } from './kernels.js';

describe('runtime round trip', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  const lengths = [1, 63, 64, 65, 1000, 4099];
  for (const n of lengths) {
    it(`computes f32 of length ${n}`, async () => {
      const input = Float32Array.from({ length: n }, (_, i) => (i % 17) * 0.25 - 2);
      const x = gpu.upload('x', input);
      const y = gpu.createBuffer('y', n * 4);
      await gpu.run(await affineF32(gpu), [x, y], Math.ceil(n / 64));
      const output = await gpu.readF32(y, n);
      assert.equal(output.length, n);
      for (let i = 0; i < n; i++) assert.equal(output[i], Math.fround(input[i]! * 2 + 1));
    });

    it(`computes u32 of length ${n}`, async () => {
      const input = Uint32Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 0);
      const x = gpu.upload('x', input);
      const y = gpu.createBuffer('y', n * 4);
      await gpu.run(await mixU32(gpu), [x, y], Math.ceil(n / 64));
      const output = await gpu.readU32(y, n);
      for (let i = 0; i < n; i++) assert.equal(output[i], ((input[i]! ^ 0x5a5a5a5a) + i) >>> 0);
    });
  }

  it('reads back a byte range', async () => {
    const values = Uint32Array.from({ length: 256 }, (_, i) => i * 3);
    const buffer = gpu.upload('values', values);
    const bytes = await gpu.read(buffer, 40, 16);
    assert.deepEqual([...new Uint32Array(bytes)], [...values.subarray(4, 14)]);
  });

  it('pads uploads of odd byte lengths', async () => {
    const buffer = gpu.upload('bytes', Uint8Array.of(1, 2, 3, 4, 5));
    assert.equal(buffer.size, 8);
    assert.deepEqual([...new Uint8Array(await gpu.read(buffer, 5))], [1, 2, 3, 4, 5]);
  });

  it('reports a binding count mismatch', async () => {
    const kernel = await affineF32(gpu);
    const x = gpu.createBuffer('x', 64);
    await assert.rejects(gpu.run(kernel, [x], 1), /affine_f32.*1 buffers given for 2 bindings/);
  });

  it('rejects a misaligned binding offset', async () => {
    const kernel = await affineF32(gpu);
    const x = gpu.createBuffer('x', 1024);
    const y = gpu.createBuffer('y', 1024);
    const offset = gpu.limits.minStorageBufferOffsetAlignment / 2;
    assert.throws(
      () =>
        new Program(gpu, 'misaligned', [
          { kernel, bindings: [{ buffer: x, offset }, y], workgroups: 1 },
        ]),
      (error: Error) =>
        error instanceof GpuError &&
        error.message.includes(`'x' is bound at byte offset ${offset}`) &&
        error.message.includes('minStorageBufferOffsetAlignment'),
    );
  });

  it('throws uncaptured errors at the next wait', async () => {
    const kernel = await affineF32(gpu);
    // A buffer without STORAGE usage makes createBindGroup fail validation asynchronously.
    const x = gpu.createBuffer('not-storage', 256, BufferUsage.COPY_DST);
    const y = gpu.createBuffer('y', 256);
    const logged: string[] = [];
    const previous = setLogSink((level, _scope, message) => logged.push(`${level}: ${message}`));
    await assert
      .rejects(
        (async () => {
          await gpu.run(kernel, [x, y], 1);
          await gpu.sync();
        })(),
        (error: Error) => error instanceof GpuError && /not-storage/.test(error.message),
      )
      .finally(() => setLogSink(previous));
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /^error: WebGPU error: .*not-storage/);
    await gpu.sync();
  });
});

describe('runtime WGSL errors', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  const cases = [
    {
      name: 'type mismatch',
      source: '@compute @workgroup_size(1)\nfn main() {\n  let a: u32 = 1.5;\n}',
      line: 3,
    },
    {
      name: 'syntax error',
      source: '\n\n@compute @workgroup_size(1)\nfn main() {\n  let a = ;\n}',
      line: 5,
    },
    {
      name: 'unknown identifier',
      source: '@compute @workgroup_size(1)\nfn main() {\n  _ = nothing;\n}',
      line: 3,
    },
  ];
  for (const { name, source, line } of cases) {
    it(`names kernel and line: ${name}`, async () => {
      const kernelName = `broken_${name.replace(/ /g, '_')}`;
      const error = await gpu.kernel({ name: kernelName, source, bindings: [] }).then(
        () => assert.fail('compilation succeeded'),
        (caught: Error) => caught,
      );
      assert.ok(error instanceof GpuError);
      assert.match(error.message, new RegExp(`kernel '${kernelName}'`));
      assert.match(error.message, new RegExp(`line ${line}:`));
      assert.ok(error.message.includes(source.split('\n')[line - 1]!));
    });
  }

  it('names the kernel without an entry point', async () => {
    await assert.rejects(
      gpu.kernel({
        name: 'no_main',
        source: '@compute @workgroup_size(1)\nfn other() {}',
        bindings: [],
      }),
      (error: Error) => error instanceof GpuError && /no_main/.test(error.message),
    );
  });

  it('keeps the device usable after a WGSL error', async () => {
    await assert.rejects(gpu.kernel({ name: 'bad', source: 'fn', bindings: [] }));
    await gpu.sync();
    const kernel = await affineF32(gpu);
    const x = gpu.upload('x', Float32Array.of(1, 2));
    const y = gpu.createBuffer('y', 8);
    await gpu.run(kernel, [x, y], 1);
    assert.deepEqual([...(await gpu.readF32(y, 2))], [3, 5]);
  });
});
