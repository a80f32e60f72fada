import assert from 'node:assert/strict';
import { acquireGpu, Profiler, Program, type Gpu } from '../../src/runtime/index.js';
import { affineF32, iotaU32 } from './kernels.js';

const N = 64 * 1024;
const STEPS = 3;

describe('runtime profiler', () => {
  let gpu: Gpu;
  let program: Program;
  before(async () => {
    gpu = await acquireGpu();
    const x = gpu.upload('x', new Float32Array(N).fill(1));
    const y = gpu.createBuffer('y', N * 4);
    const z = gpu.createBuffer('z', N * 4);
    program = new Program(gpu, 'step', [
      {
        kernel: await affineF32(gpu),
        bindings: [x, y],
        workgroups: N / 64,
        flops: 2 * N,
        bytes: 8 * N,
      },
      { kernel: await iotaU32(gpu), bindings: [z], workgroups: N / 64, bytes: 4 * N },
    ]);
  });
  after(() => gpu?.destroy());

  it('times each kernel with timestamp queries', async () => {
    assert.ok(gpu.hasFeature('timestamp-query'), 'lavapipe has timestamp-query');
    const profiler = new Profiler(gpu);
    assert.equal(profiler.usesTimestamps, true);
    for (let step = 0; step < STEPS; step++) program.submit([], profiler);
    const rows = await profiler.results();
    assert.deepEqual(rows.map((row) => row.name).sort(), ['affine_f32', 'iota_u32']);
    for (const row of rows) {
      assert.equal(row.calls, STEPS);
      assert.ok(row.milliseconds > 0, `${row.name} took ${row.milliseconds} ms`);
    }
    assert.equal(gpu.buffers.stats.liveBuffers, 0, 'timestamp readbacks return to the pool');
    const affine = rows.find((row) => row.name === 'affine_f32')!;
    assert.equal(affine.flops, STEPS * 2 * N);
    assert.equal(affine.bytes, STEPS * 8 * N);
  });

  it('times each submit on the CPU without timestamps', async () => {
    const profiler = new Profiler(gpu, { timestamps: false });
    assert.equal(profiler.usesTimestamps, false);
    for (let step = 0; step < STEPS; step++) program.submit([], profiler);
    const rows = await profiler.results();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.name, 'step');
    assert.equal(rows[0]!.calls, STEPS);
    assert.ok(rows[0]!.milliseconds > 0);
    assert.equal(rows[0]!.flops, STEPS * 2 * N);
    assert.equal(rows[0]!.bytes, STEPS * 12 * N);
  });

  it('formats a table with rates', async () => {
    const profiler = new Profiler(gpu);
    program.submit([], profiler);
    const table = await profiler.table();
    const lines = table.split('\n');
    assert.equal(lines.length, 3);
    assert.equal(new Set(lines.map((line) => line.length)).size, 1, 'columns line up');
    assert.match(lines[0]!, /^kernel\s+calls\s+ms\s+GFLOP\/s\s+GB\/s$/);
    const affine = lines.find((line) => line.startsWith('affine_f32'))!;
    const iota = lines.find((line) => line.startsWith('iota_u32'))!;
    assert.match(affine, /^affine_f32\s+1\s+\d+\.\d{3}\s+\d+\.\d{2}\s+\d+\.\d{2}$/);
    assert.match(iota, /^iota_u32\s+1\s+\d+\.\d{3}\s+-\s+\d+\.\d{2}$/);
  });
});
