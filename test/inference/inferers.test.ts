import assert from 'node:assert/strict';

import { UserError } from '../../src/errors.js';
import {
  PatchInferer,
  SliceInferer,
  WholeImageInferer,
  windowStarts,
  type ForwardFunction,
  type InferenceVolume,
} from '../../src/inference/index.js';

/** Returns a volume of distinct values, so any misplaced voxel changes the result. */
function rampVolume(shape: number[]): InferenceVolume {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from(
    { length: size },
    (_, i) => Math.sin(i * 0.37) * 100 + (i + 1) * 1e-3,
  );
  return { data, shape };
}

/** Returns an identity network that counts its calls and checks the batch length. */
function identity(batchLength: number): ForwardFunction & { calls: number } {
  const forward = Object.assign(
    async (batch: Float32Array) => {
      forward.calls++;
      assert.equal(batch.length, batchLength);
      return batch.slice();
    },
    { calls: 0 },
  );
  return forward;
}

describe('windowStarts', () => {
  const cases: [number, number, number, number[]][] = [
    [10, 4, 0, [0, 4, 6]],
    [10, 4, 2, [0, 2, 4, 6]],
    [8, 4, 0, [0, 4]],
    [4, 4, 1, [0]],
    [9, 5, 3, [0, 2, 4]],
  ];
  for (const [extent, size, overlap, expected] of cases) {
    it(`covers ${extent} voxels with ${size}/${overlap}`, () => {
      assert.deepEqual(windowStarts(extent, size, overlap), expected);
    });
  }
});

describe('WholeImageInferer', () => {
  it('returns the input through an identity network', async () => {
    const volumes = [0, 1, 2].map(() => rampVolume([2, 5, 4, 3]));
    const forward = identity(2 * 2 * 5 * 4 * 3);
    const outputs = await new WholeImageInferer({ batchSize: 2 }).infer(forward, volumes);
    assert.equal(forward.calls, 2);
    assert.equal(outputs.length, 3);
    for (const [index, output] of outputs.entries()) {
      assert.deepEqual(output.shape, [2, 5, 4, 3]);
      assert.deepEqual(output.data, volumes[index]!.data);
    }
  });

  it('keeps class scores flat', async () => {
    const forward: ForwardFunction = async (batch) =>
      Float32Array.from([0, 1, 2], (c) => batch[0]! + c);
    const [output] = await new WholeImageInferer({ batchSize: 1 }).infer(forward, [
      rampVolume([1, 4, 4, 4]),
    ]);
    assert.deepEqual(output!.shape, [3]);
  });

  it('rejects volumes of different shapes', async () => {
    const inferer = new WholeImageInferer({ batchSize: 2 });
    const volumes = [rampVolume([1, 4, 4, 4]), rampVolume([1, 4, 4, 5])];
    await assert.rejects(
      inferer.infer(identity(128), volumes),
      /Volume 1 has shape \[1, 4, 4, 5\]/,
    );
  });
});

describe('PatchInferer', () => {
  const cases = [
    { blending: 'constant', overlap: 0, patchSize: [4, 4, 4] },
    { blending: 'constant', overlap: 2, patchSize: [4, 4, 4] },
    { blending: 'gaussian', overlap: 2, patchSize: [4, 4, 4] },
    { blending: 'gaussian', overlap: [1, 3, 2], patchSize: [3, 5, 4] },
  ] as const;
  for (const { blending, overlap, patchSize } of cases) {
    it(`reassembles ${blending} blending, overlap ${String(overlap)}`, async () => {
      const volume = rampVolume([2, 9, 10, 7]);
      const inferer = new PatchInferer({ patchSize, overlap, blending, batchSize: 3 });
      const patchLength = 2 * patchSize.reduce((a, b) => a * b, 1);
      const forward = identity(3 * patchLength);
      const output = await inferer.infer(forward, volume);
      const patches = inferer.patchStarts([9, 10, 7]).length;
      assert.equal(forward.calls, Math.ceil(patches / 3));
      assert.deepEqual(output.shape, [2, 9, 10, 7]);
      assert.deepEqual(output.data, volume.data);
    });
  }

  it('blends overlapping outputs by weight', async () => {
    // Each patch outputs its own index, so overlap voxels get a mean of two indices.
    const volume = rampVolume([1, 1, 1, 6]);
    const inferer = new PatchInferer({
      patchSize: [1, 1, 4],
      overlap: [0, 0, 2],
      blending: 'constant',
      batchSize: 1,
    });
    let index = 0;
    const forward: ForwardFunction = async () => new Float32Array(4).fill(index++);
    const output = await inferer.infer(forward, volume);
    assert.deepEqual(Array.from(output.data), [0, 0, 0.5, 0.5, 1, 1]);
  });

  it('returns the output channels of the network', async () => {
    const volume = rampVolume([1, 6, 6, 6]);
    const inferer = new PatchInferer({ patchSize: [3, 3, 3], overlap: 1, batchSize: 2 });
    const forward: ForwardFunction = async (batch) => {
      const out = new Float32Array(batch.length * 2);
      for (let row = 0; row < 2; row++) {
        const patch = batch.subarray(row * 27, row * 27 + 27);
        out.set(patch, row * 54);
        out.set(
          patch.map((v) => -v),
          row * 54 + 27,
        );
      }
      return out;
    };
    const output = await inferer.infer(forward, volume);
    assert.deepEqual(output.shape, [2, 6, 6, 6]);
    assert.deepEqual(output.data.subarray(0, 216), volume.data);
    assert.deepEqual(
      output.data.subarray(216),
      volume.data.map((v) => -v),
    );
  });

  it('puts more weight on patch centres with gaussian blending', () => {
    const weights = new PatchInferer({ patchSize: [1, 1, 5], batchSize: 1 }).weights();
    assert.ok(weights[2]! > weights[1]!);
    assert.ok(weights[1]! > weights[0]!);
    assert.equal(weights[0], weights[4]);
  });

  const invalid: [string, () => unknown, RegExp][] = [
    [
      'overlap as large as the patch',
      () => new PatchInferer({ patchSize: [4, 4, 4], overlap: 4, batchSize: 1 }),
      /overlap \[4, 4, 4\] is invalid/,
    ],
    [
      'a zero patch size',
      () => new PatchInferer({ patchSize: [4, 0, 4], batchSize: 1 }),
      /Patch size \[4, 0, 4\] is invalid/,
    ],
    [
      'a zero batch size',
      () => new PatchInferer({ patchSize: [4, 4, 4], batchSize: 0 }),
      /batchSize 0 is invalid/,
    ],
    [
      'a negative sigma',
      () => new PatchInferer({ patchSize: [4, 4, 4], batchSize: 1, sigmaScale: -1 }),
      /sigmaScale -1/,
    ],
  ];
  for (const [name, build, message] of invalid) {
    it(`rejects ${name}`, () => {
      assert.throws(
        build,
        (error: Error) => error instanceof UserError && message.test(error.message),
      );
    });
  }

  it('rejects a patch larger than the volume', async () => {
    const inferer = new PatchInferer({ patchSize: [4, 4, 4], batchSize: 1 });
    await assert.rejects(
      inferer.infer(identity(64), rampVolume([1, 3, 8, 8])),
      /larger than the volume \[3, 8, 8\]/,
    );
  });

  it('rejects an output that is not dense', async () => {
    const inferer = new PatchInferer({ patchSize: [2, 2, 2], batchSize: 1 });
    const forward: ForwardFunction = async () => new Float32Array(3);
    await assert.rejects(
      inferer.infer(forward, rampVolume([1, 4, 4, 4])),
      /3 values per patch of 8 voxels/,
    );
  });

  it('rejects data that does not match the shape', async () => {
    const inferer = new PatchInferer({ patchSize: [2, 2, 2], batchSize: 1 });
    const volume = { data: new Float32Array(10), shape: [1, 4, 4, 4] };
    await assert.rejects(inferer.infer(identity(8), volume), /has 10 values but its shape/);
  });
});

describe('SliceInferer', () => {
  for (const axis of [0, 1, 2]) {
    it(`reassembles slices along axis ${axis}`, async () => {
      const shape = [2, 5, 6, 7];
      const volume = rampVolume(shape);
      const sliceLength = (2 * 5 * 6 * 7) / shape[3 - axis]!;
      const forward = identity(4 * sliceLength);
      const output = await new SliceInferer({ axis, batchSize: 4 }).infer(forward, volume);
      assert.equal(forward.calls, Math.ceil(shape[3 - axis]! / 4));
      assert.deepEqual(output.shape, shape);
      assert.deepEqual(output.data, volume.data);
    });
  }

  it('runs the network on one slice per row', async () => {
    // A network that writes each slice's first value everywhere shows which voxels form a slice.
    const volume = rampVolume([1, 2, 3, 4]);
    const forward: ForwardFunction = async (batch) =>
      new Float32Array(batch.length).fill(batch[0]!);
    const output = await new SliceInferer({ axis: 2, batchSize: 1 }).infer(forward, volume);
    assert.deepEqual(Array.from(output.data.subarray(0, 12)), new Array(12).fill(volume.data[0]));
    assert.deepEqual(Array.from(output.data.subarray(12)), new Array(12).fill(volume.data[12]));
  });

  it('rejects an invalid axis', () => {
    assert.throws(() => new SliceInferer({ axis: 3, batchSize: 1 }), /Slice axis 3 is invalid/);
  });

  it('rejects a 2D input', async () => {
    const inferer = new SliceInferer({ axis: 0, batchSize: 1 });
    await assert.rejects(
      inferer.infer(identity(4), rampVolume([1, 4, 4])),
      /expected 4 positive sizes/,
    );
  });
});

describe('Inferer toJSON', () => {
  const inferers = [
    new WholeImageInferer({ batchSize: 3 }),
    new PatchInferer({
      patchSize: [4, 5, 6],
      overlap: [1, 2, 3],
      blending: 'constant',
      batchSize: 2,
    }),
    new PatchInferer({ patchSize: [8, 8, 8], overlap: 4, sigmaScale: 0.25, batchSize: 1 }),
    new SliceInferer({ axis: 1, batchSize: 8 }),
  ];
  for (const inferer of inferers) {
    it(`round-trips ${inferer.constructor.name}`, () => {
      const json = JSON.parse(JSON.stringify(inferer)) as ReturnType<typeof inferer.toJSON>;
      assert.equal(json.name, inferer.constructor.name);
      const rebuilt = new (inferer.constructor as new (options: unknown) => typeof inferer)(json);
      assert.deepEqual(rebuilt.toJSON(), inferer.toJSON());
    });
  }
});
