// Normalisation and dropout layers (nn.BatchNormNd, nn.InstanceNormNd, nn.GroupNorm,
// nn.LayerNorm, nn.Dropout), with PyTorch's defaults and state_dict names.

import type { GraphBuilder } from '../builder.js';
import type { Value } from '../ir.js';
import type { ParamSpec } from './args.js';
import { defineLayer, spatialDimsOf, type LayerDef } from './define.js';

const EPS: ParamSpec = {
  name: 'eps',
  type: 'float',
  min: 0,
  default: 1e-5,
  doc: 'added to the variance before the square root',
};

function affineParams(builder: GraphBuilder, shape: readonly number[]): Value[] {
  return [
    builder.param('weight', shape, { kind: 'constant', value: 1 }),
    builder.param('bias', shape, { kind: 'constant', value: 0 }),
  ];
}

const batchNorm = defineLayer({
  name: 'batchNorm',
  doc: 'Batch normalisation over all axes but the channels (nn.BatchNorm1d/2d/3d)',
  inputs: 1,
  params: [
    EPS,
    {
      name: 'momentum',
      type: 'float',
      min: 0,
      default: 0.1,
      doc: 'weight of the batch statistic in the running average',
    },
    { name: 'affine', type: 'bool', default: true, doc: 'learn a per-channel scale and shift' },
    {
      name: 'trackRunningStats',
      type: 'bool',
      default: true,
      doc: 'keep running mean and variance for eval mode',
    },
  ],
  build(builder, [x], args) {
    const channels = [x.shape[1]];
    const affine = args.bool('affine');
    const trackRunningStats = args.bool('trackRunningStats');
    const inputs = [x, ...(affine ? affineParams(builder, channels) : [])];
    if (trackRunningStats) {
      inputs.push(
        builder.buffer('running_mean', channels, { kind: 'constant', value: 0 }),
        builder.buffer('running_var', channels, { kind: 'constant', value: 1 }),
        builder.buffer('num_batches_tracked', [], { kind: 'constant', value: 0 }, 'i32'),
      );
    }
    return builder.op('batchNorm', inputs, {
      eps: args.float('eps'),
      momentum: args.float('momentum'),
      affine,
      trackRunningStats,
    });
  },
});

const instanceNorm = defineLayer({
  name: 'instanceNorm',
  doc: 'Instance normalisation per sample and channel (nn.InstanceNorm1d/2d/3d)',
  inputs: 1,
  params: [
    EPS,
    { name: 'affine', type: 'bool', default: false, doc: 'learn a per-channel scale and shift' },
  ],
  build(builder, [x], args) {
    spatialDimsOf('instanceNorm', x);
    const affine = args.bool('affine');
    const inputs = [x, ...(affine ? affineParams(builder, [x.shape[1]]) : [])];
    return builder.op('instanceNorm', inputs, { eps: args.float('eps'), affine });
  },
});

const groupNorm = defineLayer({
  name: 'groupNorm',
  doc: 'Group normalisation over channel groups (nn.GroupNorm)',
  inputs: 1,
  params: [
    { name: 'numGroups', type: 'int', min: 1, doc: 'number of channel groups' },
    EPS,
    { name: 'affine', type: 'bool', default: true, doc: 'learn a per-channel scale and shift' },
  ],
  build(builder, [x], args) {
    const affine = args.bool('affine');
    const inputs = [x, ...(affine ? affineParams(builder, [x.shape[1]]) : [])];
    return builder.op('groupNorm', inputs, {
      numGroups: args.int('numGroups'),
      eps: args.float('eps'),
      affine,
    });
  },
});

const layerNorm = defineLayer({
  name: 'layerNorm',
  doc: 'Layer normalisation over the trailing axes (nn.LayerNorm)',
  inputs: 1,
  params: [
    {
      name: 'normalizedShape',
      type: 'ints',
      min: 1,
      default: null,
      doc: 'sizes of the normalised trailing axes (default: the last axis)',
    },
    EPS,
    { name: 'affine', type: 'bool', default: true, doc: 'learn an element-wise scale and shift' },
  ],
  build(builder, [x], args) {
    const normalizedShape = args.isNull('normalizedShape')
      ? [x.shape[x.shape.length - 1]]
      : args.list('normalizedShape');
    const affine = args.bool('affine');
    const inputs = [x, ...(affine ? affineParams(builder, normalizedShape) : [])];
    return builder.op('layerNorm', inputs, { normalizedShape, eps: args.float('eps'), affine });
  },
});

const dropout = defineLayer({
  name: 'dropout',
  doc: 'Element-wise dropout in train mode, identity in eval mode (nn.Dropout)',
  inputs: 1,
  params: [{ name: 'p', type: 'float', min: 0, default: 0.5, doc: 'probability of zeroing' }],
  build: (builder, [x], args) => builder.op('dropout', [x], { p: args.float('p') }),
});

export const NORM_LAYERS: LayerDef[] = [batchNorm, instanceNorm, groupNorm, layerNorm, dropout];
