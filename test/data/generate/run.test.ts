import assert from 'node:assert/strict';

import { runSubjectJobs, type SubjectJob } from '../../../src/data/generate/run.js';
import type { Volume } from '../../../src/data/volume.js';
import type { ImageBackend } from '../../../src/data/wasm/backend.js';
import { volumeOf, wasmKernels } from '../transforms/helpers.js';

const IMAGE = volumeOf([6, 6, 6], (i, j, k) => i + j + k);

function jobs(count: number): SubjectJob<number>[] {
  return Array.from({ length: count }, (_, index) => ({
    subject: index,
    name: `job ${index}`,
    input: IMAGE,
    steps: [{ op: 'augment', options: { noise: { min: 1, max: 1 } }, seed: index }],
  }));
}

describe('subject job runner', () => {
  let backend: ImageBackend;
  before(async () => {
    backend = await wasmKernels();
  });

  async function collect(workers: number, count: number): Promise<Map<number, Volume>> {
    const results = new Map<number, Volume>();
    await runSubjectJobs(jobs(count), { backend, workers }, async (subject, volume) => {
      results.set(subject, volume);
    });
    return results;
  }

  it('gives the same results with workers', async () => {
    const inline = await collect(0, 5);
    const pooled = await collect(2, 5);
    assert.equal(inline.size, 5);
    assert.equal(pooled.size, 5);
    for (const [subject, volume] of inline) {
      assert.deepEqual(pooled.get(subject)!.data, volume.data, `subject ${subject}`);
    }
    assert.notDeepEqual(inline.get(0)!.data, inline.get(1)!.data);
  });

  for (const workers of [0, 1]) {
    it(`stops at a failed write with ${workers} worker(s)`, async () => {
      const written: number[] = [];
      await assert.rejects(
        runSubjectJobs(jobs(6), { backend, workers }, async (subject) => {
          if (subject === 2) throw new Error('disk full');
          written.push(subject);
        }),
        /disk full/,
      );
      assert.ok(!written.includes(5), `wrote ${written.join(', ')}`);
    });
  }

  it('reports a failed pipeline with the job name', async () => {
    const bad: SubjectJob<number>[] = [
      { ...jobs(1)[0]!, name: 'sub-009', steps: [{ op: 'smooth', sigmaMm: -1 }] },
    ];
    await assert.rejects(
      runSubjectJobs(bad, { backend, workers: 1 }, async () => undefined),
      /Preprocessing sub-009 failed: sigma \[-1, -1, -1\] mm is invalid/,
    );
  });
});
