import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { UserError } from '../../../src/errors.js';
import { setLogSink } from '../../../src/log.js';
import { readNifti } from '../../../src/data/nifti/node.js';
import { runPipeline, type PreprocessStep } from '../../../src/data/transforms/pipeline.js';
import { Volume } from '../../../src/data/volume.js';
import { loadImageKernels } from '../../../src/data/wasm/loader.js';
import { WorkerPool } from '../../../src/data/wasm/pool.js';

const FIXTURES = new URL('../../fixtures/nifti/', import.meta.url).pathname;
const FILES = ['RAS', 'LPI', 'ASR'].map((name) => `${FIXTURES}${name}.nii.gz`);
const STEPS: PreprocessStep[] = [
  { op: 'reorient' },
  { op: 'resample', spacing: 3 },
  { op: 'clipPercentiles', lower: 1, upper: 99 },
  { op: 'zScore' },
  { op: 'cropOrPad', shape: [48, 56, 48] },
  {
    op: 'augment',
    options: { noise: { min: 0.1, max: 0.2 }, flip: { probability: 0.5 } },
    seed: 11,
  },
];

describe('worker pool', () => {
  let pool: WorkerPool;
  before(async () => {
    pool = await WorkerPool.create({ size: 2 });
  });
  after(async () => {
    await pool.terminate();
  });

  it('gives the single-thread results for paths', async () => {
    const kernels = await loadImageKernels();
    const results = await pool.map(FILES.map((input) => ({ input, steps: STEPS })));
    assert.equal(results.length, 3);
    for (const [index, path] of FILES.entries()) {
      const expected = runPipeline(kernels, await readNifti(path), STEPS);
      assert.deepEqual(results[index]!.shape, expected.shape, path);
      assert.deepEqual(results[index]!.data, expected.data, path);
      assert.deepEqual(results[index]!.affine, expected.affine, path);
    }
  });

  it('accepts file bytes and decoded volumes', async () => {
    const kernels = await loadImageKernels();
    const volume = await readNifti(FILES[1]!);
    const expected = runPipeline(kernels, volume, STEPS);
    const [fromBytes, fromVolume] = await pool.map([
      { input: new Uint8Array(readFileSync(FILES[1]!)), steps: STEPS, name: 'LPI bytes' },
      { input: volume, steps: STEPS },
    ]);
    assert.deepEqual(fromBytes!.data, expected.data);
    assert.deepEqual(fromVolume!.data, expected.data);
    // The caller's volume was copied to the worker, not moved.
    assert.equal(volume.data.length, 64 * 79 * 67);
  });

  it('reports a worker error with the file name', async () => {
    await assert.rejects(
      pool.run({ input: `${FIXTURES}not-nifti.nii`, steps: [] }),
      (error: Error) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, /^Preprocessing .*not-nifti\.nii failed: .*is not a NIfTI/);
        return true;
      },
    );
  });

  it('reports a constant image with its name', async () => {
    const constant = new Volume(
      new Float32Array(8).fill(3),
      [2, 2, 2],
      new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
    );
    await assert.rejects(
      pool.run({ input: constant, steps: [{ op: 'zScore' }], name: 'sub-01_T1w.nii.gz' }),
      /Preprocessing sub-01_T1w\.nii\.gz failed: .* is constant/,
    );
  });

  it('keeps working after a failed task', async () => {
    const [result] = await pool.map([{ input: FILES[0]!, steps: [{ op: 'reorient' }] }]);
    assert.deepEqual(result!.shape, [64, 79, 67]);
  });

  it('rejects an unknown step by name', async () => {
    const steps = [{ op: 'sharpen' }] as unknown as PreprocessStep[];
    await assert.rejects(pool.run({ input: FILES[0]!, steps }), /step 'sharpen' is unknown/);
  });

  it('fails the task of a worker that exits', async () => {
    const workerUrl = new URL('./exiting-worker.ts', import.meta.url);
    const crashing = await WorkerPool.create({ size: 1, workerUrl });
    const warnings: string[] = [];
    const previous = setLogSink((level, _scope, message) => warnings.push(`${level} ${message}`));
    try {
      await assert.rejects(
        crashing.run({ input: FILES[0]!, steps: [] }),
        /^Error: Preprocessing .*RAS\.nii\.gz failed: the worker died \(worker exited with code 3\)/,
      );
      // The replacement worker takes the next task (and exits as well).
      await assert.rejects(crashing.run({ input: FILES[1]!, steps: [] }), /LPI\.nii\.gz failed/);
    } finally {
      await crashing.terminate();
      setLogSink(previous);
    }
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /^warn a worker died \(worker exited with code 3\)/);
  });

  it('rejects a worker script that fails to load', async () => {
    const workerUrl = new URL('./throwing-worker.ts', import.meta.url);
    await assert.rejects(
      WorkerPool.create({ size: 2, workerUrl }),
      /A worker failed to start: the worker script failed to load/,
    );
  });

  it('rejects invalid sizes and use after terminate', async () => {
    await assert.rejects(WorkerPool.create({ size: 0 }), /Worker pool size 0 is invalid/);
    const small = await WorkerPool.create({ size: 1 });
    const pending = assert.rejects(small.run({ input: FILES[0]!, steps: STEPS }), /terminated/);
    await small.terminate();
    await pending;
    await assert.rejects(small.run({ input: FILES[0]!, steps: [] }), /terminated/);
  });
});
