import assert from 'node:assert/strict';

import { Volume } from '../../src/data/volume.js';
import { loadImageKernels } from '../../src/data/wasm/loader.js';
import type { ImageKernels } from '../../src/data/wasm/kernels.js';
import { memoryExperimentFiles } from '../../src/experiment/files.js';
import { loadExperiment } from '../../src/experiment/load.js';
import { preprocessImage } from '../../src/experiment/preprocessing.js';
import { compileExperimentSaliency, imageSaliency } from '../../src/experiment/saliency.js';
import { acquireGpu, type Gpu } from '../../src/runtime/index.js';
import { runForward } from '../networks/cpu-forward.js';
import { DATA, fixtureFolder } from './fixture.js';

// The fixture CNN takes patches of 5 x 7 x 6 voxels (x, y, z). On an 8 x 7 x 9 image, patches
// every 3 voxels in x and z make 2 x 1 x 2 patches that overlap in x = 3..4 and z = 3..5.
const IMAGE_DIMS = [8, 7, 9];
const EXTRACTION = { mode: 'patch', patchSize: [5, 7, 6], stride: [3, 7, 3] };

function patchExperiment() {
  const data = { ...DATA, transforms: { image: [], extraction: EXTRACTION, sample: [] } };
  return loadExperiment(memoryExperimentFiles(fixtureFolder({ data }), 'patch experiment'));
}

function testImage(): Volume {
  const voxels = IMAGE_DIMS[0]! * IMAGE_DIMS[1]! * IMAGE_DIMS[2]!;
  const data = Float32Array.from({ length: voxels }, (_, i) => Math.sin(i * 0.73 + 0.2));
  const affine = Float64Array.from([2, 0, 0, -8, 0, 2, 0, -7, 0, 0, 2, -9, 0, 0, 0, 1]);
  return new Volume(data, IMAGE_DIMS, affine);
}

describe('imageSaliency of patches', () => {
  let gpu: Gpu;
  let kernels: ImageKernels;
  before(async () => {
    gpu = await acquireGpu();
    kernels = await loadImageKernels();
  });
  after(() => gpu?.destroy());

  it('averages finite differences of overlapping patches', async () => {
    const experiment = await patchExperiment();
    const program = await compileExperimentSaliency(gpu, experiment);
    const image = testImage();
    const target = 1;
    const result = await imageSaliency(kernels, experiment, program, image, target);
    assert.equal(result.samples, 4);
    assert.equal(result.target, target);
    assert.deepEqual(result.volume.spatialShape, IMAGE_DIMS);

    // Each patch's |d score / d voxel| by central differences on a float64 CPU forward pass.
    const graph = experiment.buildGraph(1);
    const state = new Map([...experiment.weights].map(([k, v]) => [k, Float64Array.from(v)]));
    const preprocessed = preprocessImage(kernels, image, experiment.preprocessing!);
    const sums = new Float64Array(image.data.length);
    const counts = new Float64Array(image.data.length);
    const [nx, ny] = IMAGE_DIMS as [number, number, number];
    const starts = [
      [0, 0, 0],
      [3, 0, 0],
      [0, 0, 3],
      [3, 0, 3],
    ];
    preprocessed.samples.forEach((sample, index) => {
      const input = Float64Array.from(sample.data);
      const score = () => runForward(graph, input, state).data[target]!;
      const [sx, sy, sz] = starts[index]!;
      for (let voxel = 0; voxel < input.length; voxel++) {
        const [i, j, k] = [voxel % 5, Math.floor(voxel / 5) % 7, Math.floor(voxel / 35)];
        const saved = input[voxel]!;
        const h = 1e-4;
        input[voxel] = saved + h;
        const up = score();
        input[voxel] = saved - h;
        const down = score();
        input[voxel] = saved;
        const place = sx! + i + nx * (sy! + j + ny * (sz! + k));
        sums[place]! += Math.abs((up - down) / (2 * h));
        counts[place]! += 1;
      }
    });
    let covered = 0;
    for (let place = 0; place < sums.length; place++) {
      const expected = counts[place]! > 0 ? sums[place]! / counts[place]! : 0;
      if (counts[place]! > 1) covered++;
      const actual = result.volume.data[place]!;
      assert.ok(
        Math.abs(actual - expected) <= 1e-3 * Math.max(1, expected),
        `voxel ${place}: ${actual} vs ${expected}`,
      );
    }
    // 2 x 7 x 9 voxels lie in two x-patches, 8 x 7 x 3 in two z-patches, 2 x 7 x 3 in four.
    assert.equal(covered, 2 * 7 * 9 + 8 * 7 * 3 - 2 * 7 * 3);
  });

  it('explains the soft-voted class by default', async () => {
    const experiment = await patchExperiment();
    const program = await compileExperimentSaliency(gpu, experiment);
    const result = await imageSaliency(kernels, experiment, program, testImage());
    const probabilities = result.probabilities!;
    assert.equal(probabilities.length, 2);
    assert.ok(Math.abs(probabilities[0]! + probabilities[1]! - 1) < 1e-9);
    assert.equal(result.target, probabilities[1]! > probabilities[0]! ? 1 : 0);
    const explicit = await imageSaliency(kernels, experiment, program, testImage(), result.target);
    assert.deepEqual(explicit.volume.data, result.volume.data);
  });
});
