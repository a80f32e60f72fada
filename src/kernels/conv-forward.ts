// Planner of the convolution forward pass: an implicit GEMM per group on the tiled GEMM loop,
// with the bias and activation fused into the store.

import forwardSource from '../../shaders/conv_forward.wgsl';
import geometrySource from '../../shaders/conv_geometry.wgsl';
import { checkTensor } from './common.js';
import { convConstants, convFlops, convTensorSizes, resolveConv, volume } from './conv.js';
import type { ConvGeometry } from './conv.js';
import {
  chooseTile,
  epilogueConstants,
  epilogueSource,
  gemmSource,
  tileConstants,
  type GemmLimits,
  type Tile,
} from './matmul-tile.js';
import type { Epilogue, KernelPlan } from './plan.js';

/**
 * Plans y = activation(conv(x, weight) + bias). Bindings: x, weight, bias ([outChannels]; any
 * buffer when the epilogue has no bias), y. `tile` overrides the tile that chooseTile picks.
 */
export function planConvForward(
  geometry: ConvGeometry,
  epilogue: Epilogue,
  limits: GemmLimits,
  tile?: Tile,
): KernelPlan {
  const conv = resolveConv(geometry);
  const sizes = convTensorSizes(conv);
  checkTensor(limits, 'convolution input', sizes.input);
  checkTensor(limits, 'convolution weight', sizes.weight);
  checkTensor(limits, 'convolution output', sizes.output);
  const shape = {
    batch: conv.groups,
    m: conv.outChannels / conv.groups,
    n: conv.batch * volume(conv.output),
    k: (conv.inChannels / conv.groups) * volume(conv.kernel),
  };
  const { constants, workgroups } = tileConstants(shape, tile ?? chooseTile(shape, limits));
  const source = gemmSource('conv_forward', [forwardSource, geometrySource, epilogueSource], {
    ...constants,
    ...convConstants(conv),
    ...epilogueConstants(epilogue),
  });
  const biasElements = epilogue.bias ? conv.outChannels : 0;
  return {
    spec: {
      name: `conv${conv.spatialDims}d_forward`,
      source,
      bindings: ['read-only-storage', 'read-only-storage', 'read-only-storage', 'storage'],
    },
    workgroups,
    flops: convFlops(conv),
    bytes: 4 * (sizes.input + sizes.weight + sizes.output + biasElements),
  };
}
