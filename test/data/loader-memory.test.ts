import assert from 'node:assert/strict';
import type { Batch } from '../../src/data/batch.js';
import { shuffledOrder } from '../../src/data/loader.js';
import { MemoryLoader, type MemorySample } from '../../src/data/memory-loader.js';

const SHAPE = [1, 2, 3, 2];
const VOXELS = 12;

/** Sample i: image values 100 i + v, label i % 3, mask of ones times i. */
function samples(count: number): MemorySample[] {
  return Array.from({ length: count }, (_, i) => ({
    image: Float32Array.from({ length: VOXELS }, (_, v) => 100 * i + v),
    shape: SHAPE,
    label: i % 3,
    mask: new Float32Array(VOXELS).fill(i),
    participant_id: `sub-${i}`,
  }));
}

async function epoch(loader: MemoryLoader, index: number, shuffle: boolean): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of loader.batches(index, shuffle)) batches.push(batch);
  return batches;
}

/** The sample index of each row, read back from the image's first voxel. */
const rowsOf = (batches: Batch[]) =>
  batches.flatMap((batch) =>
    Array.from({ length: batch.size }, (_, row) => batch.fields.image![row * VOXELS]! / 100),
  );

describe('MemoryLoader', () => {
  it('stacks samples into batches', async () => {
    const loader = new MemoryLoader(samples(5), { batchSize: 2 });
    assert.equal(loader.length, 5);
    const batches = await epoch(loader, 0, false);
    assert.deepEqual(
      batches.map((batch) => batch.size),
      [2, 2, 1],
    );
    const [first] = batches;
    assert.deepEqual(first!.shapes, { image: [2, ...SHAPE], label: [2], mask: [2, 1, 2, 3, 2] });
    assert.ok(first!.fields.label instanceof Int32Array);
    assert.deepEqual([...first!.fields.label!], [0, 1]);
    assert.equal(first!.fields.image![VOXELS + 5], 105);
    assert.equal(first!.fields.mask![VOXELS], 1);
    assert.deepEqual(first!.ids, [
      { participant_id: 'sub-0', session_id: '' },
      { participant_id: 'sub-1', session_id: '' },
    ]);
    assert.deepEqual(rowsOf(batches), [0, 1, 2, 3, 4]);
  });

  it('shuffles by seed and epoch', async () => {
    const loader = new MemoryLoader(samples(9), { batchSize: 4, seed: 7 });
    for (const index of [0, 3]) {
      const order = rowsOf(await epoch(loader, index, true));
      assert.deepEqual(order, shuffledOrder(9, 7, index), `epoch ${index}`);
      assert.deepEqual(order, rowsOf(await epoch(loader, index, true)), `epoch ${index} again`);
    }
    assert.notDeepEqual(rowsOf(await epoch(loader, 0, true)), rowsOf(await epoch(loader, 1, true)));
  });

  it('stores float labels as [N, 1]', async () => {
    const data = samples(3).map(({ image, shape }, i) => ({ image, shape, label: i + 0.5 }));
    const loader = new MemoryLoader(data, { batchSize: 3, labelKind: 'float' });
    const [batch] = await epoch(loader, 0, false);
    assert.ok(batch!.fields.label instanceof Float32Array);
    assert.deepEqual(batch!.shapes.label, [3, 1]);
    assert.deepEqual([...batch!.fields.label!], [0.5, 1.5, 2.5]);
    assert.equal(batch!.ids[2]!.participant_id, 'sample-2');
  });

  const image = new Float32Array(VOXELS);
  const bad: [string, MemorySample[], object, RegExp][] = [
    ['no samples', [], {}, /at least one sample/],
    ['zero batch size', [{ image, shape: SHAPE }], { batchSize: 0 }, /batchSize 0 is invalid/],
    ['negative seed', [{ image, shape: SHAPE }], { seed: -1 }, /seed -1 is invalid/],
    ['unknown label kind', [{ image, shape: SHAPE }], { labelKind: 'int' }, /labelKind 'int'/],
    [
      'wrong image length',
      [{ image: new Float32Array(5), shape: SHAPE }],
      {},
      /sample 0: image has 5 values but shape \[1, 2, 3, 2\] holds 12/,
    ],
    ['one-axis shape', [{ image, shape: [12] }], {}, /shape \[12\] is invalid/],
    ['fractional class', [{ image, shape: SHAPE, label: 1.5 }], {}, /label 1.5 is invalid/],
    [
      'float label NaN',
      [{ image, shape: SHAPE, label: Number.NaN }],
      { labelKind: 'float' },
      /label NaN is invalid/,
    ],
    [
      'mask off the grid',
      [{ image, shape: SHAPE, mask: new Float32Array(7) }],
      {},
      /mask must be a Float32Array of whole channels/,
    ],
    [
      'shapes that differ',
      [
        { image, shape: SHAPE },
        { image, shape: [1, 3, 2, 2] },
      ],
      {},
      /sample 1 has image \[1, 3, 2, 2\], but sample 0 has image \[1, 2, 3, 2\]/,
    ],
    [
      'label on one sample only',
      [
        { image, shape: SHAPE, label: 1 },
        { image, shape: SHAPE },
      ],
      {},
      /sample 1 has image \[1, 2, 3, 2\], but sample 0 has image \[1, 2, 3, 2\], label \[\]/,
    ],
  ];
  for (const [title, data, options, message] of bad) {
    it(`rejects ${title}`, () => {
      assert.throws(() => new MemoryLoader(data, { batchSize: 2, ...options }), message);
    });
  }

  it('rejects a negative epoch', async () => {
    const loader = new MemoryLoader(samples(2), { batchSize: 2 });
    await assert.rejects(epoch(loader, -1, false), /Epoch -1 is invalid/);
  });
});
