// Size limits of the transforms: outputs too large for the Wasm image kernels are rejected with
// a UserError before anything is allocated.

import assert from 'node:assert/strict';

import { UserError } from '../../../src/errors.js';
import { cropOrPad, cropToMask } from '../../../src/data/transforms/crop.js';
import { MAX_FRAME_VOXELS } from '../../../src/data/transforms/grid.js';
import { resampleToReference, resampleToSpacing } from '../../../src/data/transforms/resample.js';
import { affineFromRows, Volume } from '../../../src/data/volume.js';
import type { ImageBackend } from '../../../src/data/wasm/backend.js';
import { WASM_BLOCK_LIMIT_BYTES } from '../../../src/data/wasm/kernels.js';
import { volumeOf, wasmKernels } from './helpers.js';

describe('transform size limits', () => {
  let wasm: ImageBackend;
  before(async () => {
    wasm = await wasmKernels();
  });

  const source = '/data/sub-01_T1w.nii.gz';
  const image = () => volumeOf([4, 4, 4], (i) => i + 1, affineFromRows([]), source);

  const cases: [string, (backend: ImageBackend) => Volume, RegExp[]][] = [
    [
      'cropOrPad to 5000^3',
      (backend) => cropOrPad(backend, image(), [5000, 5000, 5000]),
      [/^cropOrPad of/, /\[5000, 5000, 5000\] = 125000000000 voxels/, /choose a smaller shape/],
    ],
    [
      'resampleToSpacing to 0.001 mm',
      (backend) => resampleToSpacing(backend, image(), 0.001),
      [/^resampleToSpacing of/, /\[3001, 3001, 3001\]/, /larger spacing than \[0\.001/],
    ],
    [
      'cropToMask with a huge margin',
      (backend) => cropToMask(backend, image(), image(), 1000),
      [/^cropToMask of/, /\[2004, 2004, 2004\]/, /smaller margin/],
    ],
  ];
  for (const [name, run, messages] of cases) {
    it(`rejects ${name}`, () => {
      assert.throws(
        () => run(wasm),
        (error: Error) => {
          assert.ok(error instanceof UserError, `${error.name}: ${error.message}`);
          assert.ok(error.message.includes(source), `names the volume: ${error.message}`);
          assert.ok(error.message.includes(String(MAX_FRAME_VOXELS)), 'names the limit');
          for (const message of messages) assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  it('rejects a reference grid too large', () => {
    // Only the grid of the reference is read, so a stand-in spares allocating its 4.4 GB.
    const grid = { spatialShape: [1100, 1000, 1000], affine: image().affine } as unknown as Volume;
    assert.throws(
      () => resampleToReference(wasm, image(), grid),
      /^UserError: resampleToReference/,
    );
  });

  it('rejects a kernel block over the Wasm limit', async () => {
    const kernels = await wasmKernels();
    const data = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    assert.throws(
      () => kernels.cropPad(data, [2, 2, 2], [1024, 1024, 257], [0, 0, 0], 0),
      (error: Error) => {
        assert.ok(error instanceof UserError, `${error.name}: ${error.message}`);
        assert.match(error.message, /cannot allocate 1077936128 bytes/);
        assert.match(error.message, new RegExp(`limited to ${WASM_BLOCK_LIMIT_BYTES} bytes`));
        return true;
      },
    );
    assert.deepEqual(Array.from(kernels.cropPad(data, [2, 2, 2], [1, 1, 1], [1, 1, 1], 0)), [8]);
  });
});
