import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  compileWasmModule,
  defaultWasmUrl,
  loadImageKernels,
} from '../../../src/data/wasm/loader.js';

describe('wasm loader', () => {
  it('returns one cached instance by default', async () => {
    const first = await loadImageKernels();
    assert.equal(await loadImageKernels(), first);
    assert.equal(first.name, 'wasm');
  });

  it('loads from bytes and from a compiled module', async () => {
    const bytes = readFileSync(defaultWasmUrl);
    const fromBytes = await loadImageKernels(bytes);
    const fromModule = await loadImageKernels(await compileWasmModule(bytes));
    for (const kernels of [fromBytes, fromModule]) {
      const result = kernels.permuteFlip(Float32Array.of(1, 2, 3), [3, 1, 1], [0, 1, 2], [true]);
      assert.deepEqual(Array.from(result), [3, 2, 1]);
    }
  });

  it('names the missing file and the build command', async () => {
    await assert.rejects(
      loadImageKernels('/nonexistent/clinicadl.wasm'),
      /Cannot read the Wasm image kernels at \/nonexistent\/clinicadl\.wasm.*npm run build:wasm/,
    );
  });

  it('grows memory for a Colin27-sized volume and frees it', async () => {
    const kernels = await loadImageKernels(readFileSync(defaultWasmUrl));
    const dims = [181, 217, 181] as const;
    const data = new Float32Array(dims[0] * dims[1] * dims[2]);
    for (let i = 0; i < data.length; i++) data[i] = i;
    const flipped = kernels.permuteFlip(data, dims, [0, 1, 2], [false, false, true]);
    // Flipping z moves the first voxel of the last plane to the front, and back.
    const plane = dims[0] * dims[1];
    for (const index of [0, 9973 * 3, plane - 1, plane * 100 + 17]) {
      const [inPlane, z] = [index % plane, Math.floor(index / plane)];
      assert.equal(flipped[index], data[inPlane + (dims[2] - 1 - z) * plane], `voxel ${index}`);
    }
    const grown = kernels.memoryBytes;
    assert.ok(grown >= 2 * data.byteLength, `memory ${grown} bytes`);
    // Each call frees its blocks, so repeating it reuses the memory instead of growing it.
    for (let repeat = 0; repeat < 3; repeat++)
      kernels.permuteFlip(data, dims, [0, 1, 2], [true, false, false]);
    assert.equal(kernels.memoryBytes, grown);
  });
});
