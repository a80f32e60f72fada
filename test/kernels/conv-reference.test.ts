// The float64 references' gradients against central finite differences of their forward
// functions, and transposed convolution against the adjoint of convolution.

import assert from 'node:assert/strict';
import { convTensorSizes, resolveConv, type ConvGeometry } from '../../src/kernels/conv.js';
import { transposeAsConv, type ConvTransposeGeometry } from '../../src/kernels/conv-dgrad.js';
import type { MatmulGeometry } from '../../src/kernels/matmul.js';
import {
  convReference,
  convReferenceGrad,
  convTransposeReference,
} from '../../src/kernels/reference/conv.js';
import { matmulReference, matmulReferenceGrad } from '../../src/kernels/reference/matmul.js';
import { seededValues } from './matmul-helpers.js';

const STEP = 1e-4;

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/**
 * Checks `gradient` against the central difference of loss() along every element of
 * `values` (perturbed in place and restored).
 */
function checkFiniteDifferences(
  values: Float64Array,
  gradient: ArrayLike<number>,
  loss: () => number,
  what: string,
): void {
  assert.equal(gradient.length, values.length, `${what}: gradient length`);
  for (let i = 0; i < values.length; i++) {
    const original = values[i]!;
    values[i] = original + STEP;
    const up = loss();
    values[i] = original - STEP;
    const down = loss();
    values[i] = original;
    const numeric = (up - down) / (2 * STEP);
    assert.ok(
      Math.abs(numeric - gradient[i]!) <= 1e-6 * (1 + Math.abs(numeric)),
      `${what}[${i}]: analytic ${gradient[i]} vs finite difference ${numeric}`,
    );
  }
}

const CONV_CASES: [string, ConvGeometry][] = [
  [
    '1D stride 2',
    { batch: 1, inChannels: 2, outChannels: 3, inputSize: [7], kernelSize: [3], stride: [2] },
  ],
  [
    '2D groups 2, dilation 2, asymmetric padding',
    {
      batch: 2,
      inChannels: 2,
      outChannels: 4,
      inputSize: [5, 4],
      kernelSize: [2, 3],
      padding: [
        [1, 0],
        [0, 2],
      ],
      dilation: [2, 1],
      groups: 2,
    },
  ],
  [
    '3D stride 2, padding 1',
    {
      batch: 1,
      inChannels: 2,
      outChannels: 2,
      inputSize: [3, 4, 3],
      kernelSize: [2, 2, 2],
      stride: [2, 1, 2],
      padding: [
        [1, 1],
        [1, 0],
        [0, 1],
      ],
    },
  ],
];

describe('float64 references', () => {
  for (const [name, geometry] of CONV_CASES) {
    it(`conv gradients match finite differences: ${name}`, () => {
      const sizes = convTensorSizes(resolveConv(geometry));
      const x = Float64Array.from(seededValues(sizes.input, 1));
      const weight = Float64Array.from(seededValues(sizes.weight, 2));
      const bias = Float64Array.from(seededValues(geometry.outChannels, 3));
      const dy = seededValues(sizes.output, 4);
      const loss = () => dot(convReference(geometry, x, weight, bias), dy);
      const grads = convReferenceGrad(geometry, x, weight, dy);
      checkFiniteDifferences(x, grads.dx, loss, 'dx');
      checkFiniteDifferences(weight, grads.dweight, loss, 'dweight');
      checkFiniteDifferences(bias, grads.dbias, loss, 'dbias');
    });
  }

  const TRANSPOSE_CASES: [string, ConvTransposeGeometry][] = [
    [
      '2D stride 2, output padding 1',
      {
        batch: 1,
        inChannels: 2,
        outChannels: 3,
        inputSize: [3, 4],
        kernelSize: [3, 3],
        stride: [2, 2],
        padding: [
          [1, 1],
          [0, 0],
        ],
        outputPadding: [1, 0],
      },
    ],
    [
      '3D groups 2, dilation 2',
      {
        batch: 2,
        inChannels: 2,
        outChannels: 4,
        inputSize: [2, 3, 2],
        kernelSize: [2, 2, 2],
        dilation: [2, 1, 1],
        groups: 2,
      },
    ],
  ];

  for (const [name, geometry] of TRANSPOSE_CASES) {
    it(`transposed conv is the adjoint of conv: ${name}`, () => {
      // <convTranspose(u, w), v> = <u, conv(v, w)> for every u and v.
      const asConv = transposeAsConv(geometry);
      const sizes = convTensorSizes(resolveConv(asConv));
      const u = seededValues(sizes.output, 5);
      const v = seededValues(sizes.input, 6);
      const weight = seededValues(sizes.weight, 7);
      const left = dot(convTransposeReference(geometry, u, weight), v);
      const right = dot(u, convReference(asConv, v, weight));
      assert.ok(Math.abs(left - right) <= 1e-9 * (1 + Math.abs(left)), `${left} vs ${right}`);
    });
  }

  it('rejects output padding not below stride or dilation', () => {
    const geometry = { batch: 1, inChannels: 1, outChannels: 1, inputSize: [4], kernelSize: [3] };
    assert.throws(
      () => transposeAsConv({ ...geometry, stride: [2], outputPadding: [2] }),
      /\[0, 2\)/,
    );
    assert.throws(() => transposeAsConv({ ...geometry, outputPadding: [0, 0] }), /2 entries/);
  });

  const MATMUL_CASES: MatmulGeometry[] = [
    { batch: 2, m: 3, n: 4, k: 5 },
    { batch: 2, m: 3, n: 2, k: 4, transposeA: true, broadcastB: true },
    { batch: 3, m: 2, n: 3, k: 2, transposeB: true, broadcastA: true },
  ];

  for (const geometry of MATMUL_CASES) {
    it(`matmul gradients match finite differences: ${JSON.stringify(geometry)}`, () => {
      const a = Float64Array.from(
        seededValues((geometry.broadcastA ? 1 : geometry.batch) * geometry.m * geometry.k, 1),
      );
      const b = Float64Array.from(
        seededValues((geometry.broadcastB ? 1 : geometry.batch) * geometry.k * geometry.n, 2),
      );
      const bias = Float64Array.from(seededValues(geometry.n, 3));
      const dc = seededValues(geometry.batch * geometry.m * geometry.n, 4);
      const loss = () => dot(matmulReference(geometry, a, b, bias), dc);
      const grads = matmulReferenceGrad(geometry, a, b, dc);
      checkFiniteDifferences(a, grads.da, loss, 'da');
      checkFiniteDifferences(b, grads.db, loss, 'db');
      checkFiniteDifferences(bias, grads.dbias, loss, 'dbias');
    });
  }
});
