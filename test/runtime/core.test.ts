import assert from 'node:assert/strict';
import {
  acquireGpu,
  foldWorkgroups,
  Readback,
  Program,
  type Gpu,
} from '../../src/runtime/index.js';
import { specialize } from '../../src/kernels/template.js';

const SCALE = /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x;
  if (i >= {{N}}) { return; }
  y[i] = x[i] * {{FACTOR}};
}`;

describe('runtime core', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await acquireGpu();
  });
  after(() => gpu?.destroy());

  it('folds large workgroup counts', () => {
    assert.deepEqual(foldWorkgroups(10, 65535), [10, 1, 1]);
    const [x, y, z] = foldWorkgroups(70000, 65535);
    assert.ok(x <= 65535);
    assert.ok(y <= 65535);
    assert.equal(z, 1);
    assert.ok(x * y >= 70000);
  });

  it('runs a specialised kernel and reads back', async () => {
    const n = 1000;
    const kernel = await gpu.kernel({
      name: 'scale',
      source: specialize('scale', SCALE, { N: `${n}u`, FACTOR: '2.5' }),
      bindings: ['read-only-storage', 'storage'],
    });
    const input = Float32Array.from({ length: n }, (_, i) => i - 500);
    const x = gpu.upload('x', input);
    const y = gpu.createBuffer('y', n * 4);
    await gpu.run(kernel, [x, y], Math.ceil(n / 64));
    const output = await gpu.readF32(y, n);
    for (let i = 0; i < n; i++) assert.equal(output[i], input[i]! * 2.5);
  });

  it('reads back without waiting between submits', async () => {
    const n = 64;
    const kernel = await gpu.kernel({
      name: 'scale',
      source: specialize('scale', SCALE, { N: `${n}u`, FACTOR: '3.0' }),
      bindings: ['read-only-storage', 'storage'],
    });
    const x = gpu.upload('x', new Float32Array(n).fill(1));
    const y = gpu.createBuffer('y', n * 4);
    const program = new Program(gpu, 'step', [{ kernel, bindings: [x, y], workgroups: 1 }]);
    const readback = new Readback(gpu, 'y', y, 8);
    const results = [];
    for (let step = 0; step < 3; step++) results.push(program.submit([readback])[0]!);
    for (const result of await Promise.all(results)) {
      assert.deepEqual([...new Float32Array(result)], [3, 3]);
    }
  });

  it('names the kernel and line of a WGSL error', async () => {
    await assert.rejects(
      gpu.kernel({
        name: 'broken',
        source: '@compute @workgroup_size(1)\nfn main() {\n  let a: u32 = 1.5;\n}',
        bindings: [],
      }),
      /kernel 'broken'.*\n.*line 3/,
    );
  });
});
