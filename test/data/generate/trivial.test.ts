import assert from 'node:assert/strict';

import { resolveRegions, parseLabelTable } from '../../../src/data/generate/atlas.js';
import { atlasOnGrid, prepareImage } from '../../../src/data/generate/input.js';
import { createSubjects } from '../../../src/data/generate/subjects.js';
import {
  checkTrivialOptions,
  TRIVIAL_DEFAULTS,
  trivialAugmentation,
  trivialSubjectSteps,
  trivialTemplates,
  type TrivialTemplates,
} from '../../../src/data/generate/trivial.js';
import { readNifti } from '../../../src/data/nifti/node.js';
import { gaussianSmooth } from '../../../src/data/transforms/smooth.js';
import { runPipeline } from '../../../src/data/transforms/pipeline.js';
import type { Volume } from '../../../src/data/volume.js';
import type { ImageBackend } from '../../../src/data/wasm/backend.js';
import { readFileSync } from 'node:fs';
import { wasmKernels } from '../transforms/helpers.js';

const TEMPLATES = '/usr/share/mricron/templates';
const REGIONS = ['Hippocampus_L', 'Temporal_Mid_L', 'Temporal_Inf_L'];

describe('trivial generator', () => {
  let backend: ImageBackend;
  let image: Volume;
  let atlas: Volume;
  let templates: TrivialTemplates;
  let regionValues: number[];

  before(async () => {
    backend = await wasmKernels();
    const table = parseLabelTable(readFileSync(`${TEMPLATES}/aal.nii.txt`, 'utf8'), 'aal.nii.txt');
    const regions = resolveRegions(REGIONS, table, 'aal');
    regionValues = regions.map((region) => region.value);
    image = prepareImage(backend, await readNifti(`${TEMPLATES}/ch2bet.nii.gz`), {
      resampleMm: 4,
    });
    atlas = atlasOnGrid(backend, await readNifti(`${TEMPLATES}/aal.nii.gz`), image);
    templates = trivialTemplates(backend, image, atlas, regions, TRIVIAL_DEFAULTS);
  });

  it('darkens the AD template inside the regions', () => {
    const mask = backend.labelMask(atlas.data, regionValues);
    let ratioSum = 0;
    let count = 0;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] === 0 || image.data[i]! < 20) continue;
      ratioSum += templates.AD.data[i]! / image.data[i]!;
      count++;
    }
    assert.ok(count > 100, `${count} brain voxels in the regions`);
    // 60% atrophy at the core; the smoothed border lowers it less near the region's edge.
    const meanRatio = ratioSum / count;
    assert.ok(meanRatio > 0.4, `mean AD/CN ratio ${meanRatio}`);
    assert.ok(meanRatio < 0.7, `mean AD/CN ratio ${meanRatio}`);
    assert.equal(templates.CN, image);
  });

  it('changes AD subjects only near the regions', () => {
    const augmentation = trivialAugmentation(TRIVIAL_DEFAULTS, templates.noiseStdMax);
    const region = atlas.withData(backend.labelMask(atlas.data, regionValues));
    // The atrophy weight is non-zero exactly where the smoothed region mask is.
    const support = gaussianSmooth(backend, region, TRIVIAL_DEFAULTS.atrophySigmaMm);
    for (const subject of createSubjects(['AD', 'AD', 'AD'], 11)) {
      const steps = trivialSubjectSteps(subject, augmentation);
      const ad = runPipeline(backend, templates.AD, steps);
      const cn = runPipeline(backend, templates.CN, steps);
      // randomAugment draws the affine first, so affine-only options give the subject's affine.
      const moved = runPipeline(backend, support, [
        { op: 'augment', options: { affine: augmentation.affine! }, seed: subject.seed },
      ]);
      let inside = 0;
      for (let i = 0; i < ad.data.length; i++) {
        if (ad.data[i] === cn.data[i]) continue;
        assert.ok(moved.data[i]! > 0, `${subject.participantId}: voxel ${i} changed outside`);
        inside++;
      }
      assert.ok(inside > 100, `${subject.participantId}: ${inside} voxels changed`);
    }
  });

  it('gives different subjects different images', () => {
    const augmentation = trivialAugmentation(TRIVIAL_DEFAULTS, templates.noiseStdMax);
    const [first, second] = createSubjects(['CN', 'CN'], 3).map((subject) =>
      runPipeline(backend, templates.CN, trivialSubjectSteps(subject, augmentation)),
    );
    const again = runPipeline(
      backend,
      templates.CN,
      trivialSubjectSteps(createSubjects(['CN'], 3)[0]!, augmentation),
    );
    assert.notDeepEqual(first!.data, second!.data);
    assert.deepEqual(again.data, first!.data);
  });

  const invalid: [string, Partial<typeof TRIVIAL_DEFAULTS>, RegExp][] = [
    ['atrophy above 100%', { atrophyPercent: 120 }, /atrophyPercent 120 is invalid/],
    ['a negative rotation', { rotationDegrees: -1 }, /rotationDegrees -1 is invalid/],
    ['a NaN noise', { noiseStd: NaN }, /noiseStd NaN is invalid/],
    ['scaling of 1', { scaling: 1 }, /scaling 1 is invalid: expected a number in \[0, 0\.5\]/],
  ];
  for (const [name, change, message] of invalid) {
    it(`rejects ${name}`, () => {
      assert.throws(() => checkTrivialOptions({ ...TRIVIAL_DEFAULTS, ...change }), message);
    });
  }

  it('rejects an atlas without a region', () => {
    assert.throws(
      () =>
        trivialTemplates(backend, image, atlas, [{ value: 200, name: '200' }], TRIVIAL_DEFAULTS),
      /has no voxel of region 200 \(value 200\)/,
    );
  });
});
