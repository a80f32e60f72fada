import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Batch } from '../../src/data/batch.js';
import { TensorCache } from '../../src/data/cache.js';
import { Dataset } from '../../src/data/dataset.js';
import type { DatasetConfigInput, StepConfig } from '../../src/data/dataset-config.js';
import { DataLoader, shuffledOrder, type LoaderOptions } from '../../src/data/loader.js';
import { readNifti, writeNifti } from '../../src/data/nifti/node.js';
import { formatTsv } from '../../src/data/participants.js';
import { runPipeline } from '../../src/data/transforms/pipeline.js';
import { Volume } from '../../src/data/volume.js';
import { loadImageKernels } from '../../src/data/wasm/loader.js';
import { UserError } from '../../src/errors.js';
import { setLogSink } from '../../src/log.js';
import { writeTinyBids, type TinyBids } from './dataset-helpers.js';

type Transforms = NonNullable<DatasetConfigInput['transforms']>;
type Extraction = NonNullable<Transforms['extraction']>;

const IMAGE_STEPS: StepConfig[] = [
  { op: 'reorient' },
  { op: 'cropOrPad', shape: [24, 24, 24] },
  { op: 'zScore' },
];

async function collect(loader: DataLoader, epoch: number, shuffle: boolean): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of loader.batches(epoch, shuffle)) batches.push(batch);
  return batches;
}

describe('DataLoader', () => {
  let bids: TinyBids;
  let cacheRoot: string;
  const loaders: DataLoader[] = [];
  before(async () => {
    bids = await writeTinyBids(5);
    cacheRoot = await mkdtemp(join(tmpdir(), 'clinicadl-cache-'));
  });
  afterEach(async () => {
    await Promise.all(loaders.splice(0).map((loader) => loader.close()));
  });
  after(async () => {
    await bids.remove();
    await rm(cacheRoot, { recursive: true, force: true });
  });

  const config = (transforms: DatasetConfigInput['transforms'] = {}): DatasetConfigInput => ({
    tsv: bids.tsv,
    image: { layout: 'bids', root: bids.root },
    masks: { mask: { layout: 'bids', root: bids.root, suffix: 'mask' } },
    labels: { label: { column: 'diagnosis' }, age: { kind: 'float' } },
    labelKey: 'label',
    transforms: { image: [...IMAGE_STEPS], ...transforms },
  });
  const open = async (transforms: DatasetConfigInput['transforms'], options: LoaderOptions) => {
    const loader = await DataLoader.create(await Dataset.open(config(transforms)), options);
    loaders.push(loader);
    return loader;
  };

  it('yields preprocessed images and labels', async () => {
    const loader = await open({}, { batchSize: 2 });
    const batches = await collect(loader, 0, false);
    assert.deepEqual(
      batches.map((batch) => batch.size),
      [2, 2, 1],
    );
    const [first] = batches;
    assert.deepEqual(first!.shapes, {
      image: [2, 1, 24, 24, 24],
      mask: [2, 1, 24, 24, 24],
      label: [2],
      age: [2, 1],
    });
    assert.deepEqual(Array.from(first!.fields.label!), [1, 0]);
    assert.ok(first!.fields.label instanceof Int32Array);
    assert.deepEqual(Array.from(first!.fields.age!), [60, 62.5]);
    assert.deepEqual(first!.ids, [
      { participant_id: 'sub-001', session_id: 'ses-M000' },
      { participant_id: 'sub-002', session_id: 'ses-M000' },
    ]);
    const kernels = await loadImageKernels();
    const path = join(bids.root, 'sub-002/ses-M000/anat/sub-002_ses-M000_T1w.nii.gz');
    const expected = runPipeline(kernels, await readNifti(path), [...IMAGE_STEPS]);
    assert.deepEqual(first!.fields.image!.subarray(24 ** 3), expected.data);
    const mask = first!.fields.mask!;
    assert.ok(mask.every((value) => value === 0 || value === 1));
    const sample = await loader.sample(1);
    assert.equal(sample.metadata.age, '62.5');
    assert.equal(sample.metadata.diagnosis, 'AD');
  });

  const extractions: { extraction: Extraction; count: number; shape: number[] }[] = [
    { extraction: { mode: 'patch', patchSize: 8 }, count: 27, shape: [1, 8, 8, 8] },
    {
      extraction: { mode: 'patch', patchSize: [8, 8, 12], stride: 4 },
      count: 5 * 5 * 4,
      shape: [1, 12, 8, 8],
    },
    { extraction: { mode: 'slice', axis: 2, discarded: 2 }, count: 20, shape: [1, 24, 24] },
    { extraction: { mode: 'slice', axis: 0 }, count: 24, shape: [1, 24, 24] },
  ];
  for (const { extraction, count, shape } of extractions) {
    it(`cuts ${count} samples in ${extraction.mode} mode`, async () => {
      const loader = await open({ extraction }, { batchSize: 7 });
      assert.equal(loader.samplesPerImage, count);
      assert.equal(loader.length, 5 * count);
      const sample = await loader.sample(count + 3);
      assert.deepEqual(sample.shapes.image, shape);
      assert.equal(sample.participant_id, 'sub-002');
      assert.equal(sample.index, 3);
    });
  }

  it('cuts slices with the image values', async () => {
    const whole = await open({}, { batchSize: 1 });
    const slices = await open(
      { extraction: { mode: 'slice', axis: 2, discarded: 2 } },
      { batchSize: 1 },
    );
    const image = (await whole.sample(0)).fields.image!;
    const slice = (await slices.sample(5)).fields.image!;
    // Slice 5 after discarding 2 is z = 7; a z slice is contiguous in [C, D, H, W].
    assert.deepEqual(slice, image.subarray(7 * 576, 8 * 576));
  });

  it('runs sample transforms on each patch', async () => {
    const loader = await open(
      {
        extraction: { mode: 'patch', patchSize: 12 },
        sample: [{ op: 'minMax', constant: 'zero' }],
      },
      { batchSize: 8 },
    );
    const sample = await loader.sample(3);
    const values = sample.fields.image!;
    assert.equal(Math.min(...values), 0);
    assert.ok(Math.abs(Math.max(...values) - 1) < 1e-6);
  });

  it('reads the cache from the second epoch', async () => {
    const folder = join(cacheRoot, 'epochs');
    const loader = await open({}, { batchSize: 2, cacheFolder: folder, memoryImages: 0 });
    // create() preprocesses image 0, and with no images kept in memory epoch 0 rereads it.
    const first = await collect(loader, 0, false);
    assert.deepEqual(loader.statistics, { cacheHits: 1, preprocessed: 5 });
    const second = await collect(loader, 1, false);
    assert.deepEqual(loader.statistics, { cacheHits: 6, preprocessed: 5 });
    assert.deepEqual(second, first);
  });

  it('invalidates the cache on a change', async () => {
    const folder = join(cacheRoot, 'changes');
    const options = { batchSize: 5, cacheFolder: folder, memoryImages: 0 };
    await collect(await open({}, options), 0, false);
    const same = await open({}, options);
    await collect(same, 0, false);
    // Each count includes create()'s preparation of image 0, read again in the epoch.
    assert.deepEqual(same.statistics, { cacheHits: 6, preprocessed: 0 });
    const changed = await open({ image: [...IMAGE_STEPS.slice(0, 2), { op: 'minMax' }] }, options);
    await collect(changed, 0, false);
    assert.deepEqual(changed.statistics, { cacheHits: 1, preprocessed: 5 });
    const path = join(bids.root, 'sub-004/ses-M000/anat/sub-004_ses-M000_T1w.nii.gz');
    await utimes(path, new Date(), new Date(Date.now() + 5000));
    const touched = await open({}, options);
    await collect(touched, 0, false);
    assert.deepEqual(touched.statistics, { cacheHits: 5, preprocessed: 1 });
  });

  it('shuffles the same way for a seed', async () => {
    const ids = (batches: Batch[]) =>
      batches.flatMap((batch) => batch.ids.map((id) => `${id.participant_id}:${id.index}`));
    const extraction: Extraction = { mode: 'patch', patchSize: 12 };
    const a = await open({ extraction }, { batchSize: 6, seed: 3 });
    const b = await open({ extraction }, { batchSize: 6, seed: 3 });
    const epoch1 = ids(await collect(a, 1, true));
    assert.deepEqual(ids(await collect(b, 1, true)), epoch1);
    assert.notDeepEqual(ids(await collect(a, 2, true)), epoch1);
    assert.equal(new Set(epoch1).size, 40);
    assert.notDeepEqual(ids(await collect(a, 1, false)), epoch1);
  });

  it('prepares batches ahead', async () => {
    // With batches of one image, the prepared image count shows how far ahead the loader is.
    const settled = async (loader: DataLoader, expected: number) => {
      for (let tries = 0; tries < 100 && loader.statistics.preprocessed < expected; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return loader.statistics.preprocessed;
    };
    for (const [prefetch, ahead] of [
      [0, 2],
      [2, 4],
    ] as const) {
      const loader = await open({}, { batchSize: 1, prefetch });
      const iterator = loader.batches(0, false)[Symbol.asyncIterator]();
      await iterator.next();
      assert.equal(await settled(loader, ahead), ahead, `prefetch ${prefetch}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(loader.statistics.preprocessed, ahead, `prefetch ${prefetch} stops`);
      await iterator.return?.();
    }
  });

  it('gives a permutation in shuffledOrder', () => {
    for (const length of [1, 2, 17, 100]) {
      const order = shuffledOrder(length, 9, 4);
      assert.deepEqual(
        [...order].sort((x, y) => x - y),
        Array.from({ length }, (_, i) => i),
      );
    }
    assert.notDeepEqual(shuffledOrder(50, 9, 4), shuffledOrder(50, 10, 4));
  });

  it('loads in workers as in one thread', async () => {
    const transforms: Transforms = {
      extraction: { mode: 'patch', patchSize: 12 },
      augmentation: {
        flip: { probability: 0.5, axes: [0, 1] },
        noise: { min: 0.05, max: 0.1 },
        gamma: { logRange: 0.2 },
      },
    };
    const single = await open(transforms, { batchSize: 8, training: true, seed: 5 });
    const pooled = await open(transforms, { batchSize: 8, training: true, seed: 5, workers: 2 });
    assert.deepEqual(await collect(pooled, 1, true), await collect(single, 1, true));
  });

  it('augments by epoch and sample in training', async () => {
    const transforms: Transforms = {
      augmentation: { flip: { probability: 0.5 }, noise: { min: 0.1, max: 0.2 } },
    };
    const loader = await open(transforms, { batchSize: 1, training: true, seed: 1 });
    const again = await open(transforms, { batchSize: 1, training: true, seed: 1 });
    const evaluation = await open(transforms, { batchSize: 1 });
    const epoch0 = await loader.sample(1, 0);
    assert.deepEqual((await again.sample(1, 0)).fields.image, epoch0.fields.image);
    assert.notDeepEqual((await loader.sample(1, 1)).fields.image, epoch0.fields.image);
    const plain = await evaluation.sample(1, 0);
    assert.notDeepEqual(epoch0.fields.image, plain.fields.image);
    assert.deepEqual(await evaluation.sample(1, 3), plain);
  });

  it('moves masks with spatial augmentations', async () => {
    const transforms: Transforms = {
      augmentation: {
        affine: { degrees: 10, scale: 0.1, translationMm: 8 },
        flip: { probability: 1 },
      },
    };
    const loader = await open(transforms, { batchSize: 1, training: true, seed: 2 });
    const plain = await (await open({}, { batchSize: 1 })).sample(0);
    const sample = await loader.sample(0, 0);
    const mask = sample.fields.mask!;
    assert.ok(mask.every((value) => value === 0 || value === 1));
    assert.notDeepEqual(mask, plain.fields.mask);
  });

  const invalid: [string, LoaderOptions, RegExp][] = [
    ['a zero batch size', { batchSize: 0 }, /batchSize 0 is invalid/],
    ['a fractional seed', { batchSize: 1, seed: 0.5 }, /seed 0.5 is invalid/],
    ['negative workers', { batchSize: 1, workers: -1 }, /workers -1 is invalid/],
  ];
  for (const [name, options, message] of invalid) {
    it(`rejects ${name}`, async () => {
      const dataset = await Dataset.open(config());
      await assert.rejects(
        DataLoader.create(dataset, options),
        (error: Error) => error instanceof UserError && message.test(error.message),
      );
    });
  }

  for (const workers of [0, 1]) {
    it(`limits image size with maxBytes, ${workers} workers`, async () => {
      const path = (await Dataset.open(config())).records[0]!.paths.image!;
      const bytes = 4 * (await readNifti(path)).data.length;
      const withLimit = async (maxBytes: number) => {
        const dataset = await Dataset.open({ ...config(), maxBytes });
        const loader = await DataLoader.create(dataset, { batchSize: 2, workers });
        loaders.push(loader);
        return loader;
      };
      const loader = await withLimit(bytes);
      assert.equal((await collect(loader, 0, false)).length, 3);
      await assert.rejects(
        withLimit(bytes - 4),
        (error: Error) =>
          error instanceof UserError &&
          error.message.startsWith(`Preprocessing ${path} failed: `) &&
          error.message.includes(`${bytes} bytes as float32, more than`) &&
          error.message.includes(`${bytes - 4} bytes`) &&
          error.message.includes('maxBytes'),
      );
    });
  }

  it('rejects a fractional epoch', async () => {
    const loader = await open({}, { batchSize: 2 });
    await assert.rejects(collect(loader, 1.5, true), /Epoch 1.5 is invalid/);
  });

  it('rejects images of different shapes', async () => {
    const shapes = [
      [8, 8, 8],
      [8, 9, 8],
    ];
    const rows = await Promise.all(
      shapes.map(async (shape, index) => {
        const volume = Volume.zeros(shape);
        volume.data.forEach((_, i) => (volume.data[i] = i));
        const image_path = join(bids.root, `odd-${index}.nii`);
        await writeNifti(image_path, volume);
        return { participant_id: `sub-00${index + 1}`, session_id: 'ses-M000', image_path };
      }),
    );
    const tsv = join(bids.root, 'odd.tsv');
    await writeFile(tsv, formatTsv(['participant_id', 'session_id', 'image_path'], rows));
    const dataset = await Dataset.open({ tsv, image: { layout: 'column' } });
    const loader = await DataLoader.create(dataset, { batchSize: 2 });
    loaders.push(loader);
    await assert.rejects(
      collect(loader, 0, false),
      /odd-1\.nii gives 1 sample\(s\) of image \[1, 8, 9, 8\] after preprocessing, but .*odd-0\.nii gives 1 sample\(s\) of image \[1, 8, 8, 8\]; .*add a cropOrPad/,
    );
  });

  it('rejects a patch larger than the image', async () => {
    const dataset = await Dataset.open(config({ extraction: { mode: 'patch', patchSize: 32 } }));
    await assert.rejects(
      DataLoader.create(dataset, { batchSize: 1 }),
      /Patch size \[32, 32, 32\] is larger than/,
    );
  });
});

describe('TensorCache', () => {
  let folder: string;
  let image: string;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'clinicadl-tensors-'));
    image = join(folder, 'image.nii');
    await writeFile(image, 'not read, only stamped');
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  const samples = [
    {
      fields: { image: Float32Array.of(1, 2, 3, 4, 5, 6), mask: Float32Array.of(0, 1, 1, 0, 0, 1) },
      shapes: { image: [1, 1, 2, 3], mask: [1, 1, 2, 3] },
      grid: { shape: [3, 2, 1], affine: [2, 0, 0, -1, 0, 2, 0, -2, 0, 0, 2, -3, 0, 0, 0, 1] },
    },
    {
      fields: {
        image: Float32Array.of(-1, 0.5, 7, 8, 9, 10),
        mask: Float32Array.of(1, 1, 1, 0, 0, 0),
      },
      shapes: { image: [1, 1, 2, 3], mask: [1, 1, 2, 3] },
      grid: { shape: [3, 2, 1], affine: [2, 0, 0, 5, 0, 2, 0, -2, 0, 0, 2, -3, 0, 0, 0, 1] },
    },
  ];

  it('reads back what it wrote', async () => {
    const cache = new TensorCache(join(folder, 'round-trip'));
    const key = await TensorCache.key({ steps: ['zScore'] }, [image]);
    assert.equal(await cache.read(key), null);
    await cache.write(key, samples);
    assert.deepEqual(await cache.read(key), samples);
    assert.equal(cache.hits, 1);
    assert.equal(cache.misses, 1);
  });

  it('keys on transforms and file times', async () => {
    const key = await TensorCache.key({ steps: ['zScore'] }, [image]);
    assert.equal(await TensorCache.key({ steps: ['zScore'] }, [image]), key);
    assert.notEqual(await TensorCache.key({ steps: ['minMax'] }, [image]), key);
    await utimes(image, new Date(), new Date(Date.now() - 60_000));
    assert.notEqual(await TensorCache.key({ steps: ['zScore'] }, [image]), key);
  });

  it('treats a damaged file as absent', async () => {
    const cache = new TensorCache(join(folder, 'damaged'));
    const key = await TensorCache.key({}, [image]);
    await cache.write(key, samples);
    const path = join(cache.folder, `${key}.bin`);
    const { truncate } = await import('node:fs/promises');
    await truncate(path, 100);
    const previous = setLogSink(() => {});
    try {
      assert.equal(await cache.read(key), null);
    } finally {
      setLogSink(previous);
    }
    assert.equal(cache.misses, 1);
  });

  it('rejects a key for a missing file', async () => {
    await assert.rejects(
      TensorCache.key({}, [join(folder, 'absent.nii')]),
      /absent\.nii cannot be read \(ENOENT\)/,
    );
  });
});
