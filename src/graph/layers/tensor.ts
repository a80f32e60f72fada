// Linear layer and tensor layers: flatten, reshape, permute, element-wise arithmetic, concat,
// split, reductions, scale and pad.

import { ArgumentError } from '../errors.js';
import { numElements } from '../ir.js';
import type { BinaryOpName } from '../ops/index.js';
import { defineLayer, normaliseAxis, spatialDimsOf, type LayerDef } from './define.js';
import { biasInitSpec, INIT_PARAMS, weightInitSpec } from './param-init.js';

const linear = defineLayer({
  name: 'linear',
  doc: 'x · Wᵀ + b on the last axis (nn.Linear)',
  inputs: 1,
  params: [
    { name: 'outFeatures', type: 'int', min: 1, doc: 'output features' },
    { name: 'bias', type: 'bool', default: true, doc: 'add a learned bias' },
    ...INIT_PARAMS,
  ],
  build(builder, [x], args) {
    const weightShape = [args.int('outFeatures'), x.shape[x.shape.length - 1]];
    const inputs = [x, builder.param('weight', weightShape, weightInitSpec(args, weightShape))];
    if (args.bool('bias')) {
      inputs.push(builder.param('bias', [weightShape[0]], biasInitSpec(args, weightShape)));
    }
    return builder.op('linear', inputs, {});
  },
});

const flatten = defineLayer({
  name: 'flatten',
  doc: 'Merges the axes startDim..endDim into one (nn.Flatten)',
  inputs: 1,
  params: [
    { name: 'startDim', type: 'int', default: 1, doc: 'first merged axis' },
    { name: 'endDim', type: 'int', default: -1, doc: 'last merged axis (negative from the end)' },
  ],
  build(builder, [x], args) {
    const rank = x.shape.length;
    const start = normaliseAxis('flatten', 'startDim', args.int('startDim'), rank);
    const end = normaliseAxis('flatten', 'endDim', args.int('endDim'), rank);
    if (start > end) {
      throw new ArgumentError(`flatten: startDim (${start}) must not come after endDim (${end})`);
    }
    const merged = numElements(x.shape.slice(start, end + 1));
    const shape = [...x.shape.slice(0, start), merged, ...x.shape.slice(end + 1)];
    return builder.op('reshape', [x], { shape });
  },
});

const reshape = defineLayer({
  name: 'reshape',
  doc: 'Reshapes every sample, keeping the batch axis; one entry may be -1',
  inputs: 1,
  params: [{ name: 'shape', type: 'ints', min: -1, doc: 'shape of one sample, without N' }],
  build(builder, [x], args) {
    const target = args.list('shape');
    const perSample = numElements(x.shape.slice(1));
    const unknown = target.filter((size) => size === -1).length;
    const known = numElements(target.filter((size) => size !== -1));
    if (unknown > 1 || target.includes(0) || (unknown === 1 && perSample % known !== 0)) {
      throw new ArgumentError(
        `reshape: shape [${target.join(', ')}] cannot hold ${perSample} elements per sample; ` +
          'use sizes >= 1 and at most one -1',
        'shape',
      );
    }
    const shape = [x.shape[0], ...target.map((size) => (size === -1 ? perSample / known : size))];
    return builder.op('reshape', [x], { shape });
  },
});

const permute = defineLayer({
  name: 'permute',
  doc: 'Reorders the axes, batch axis included (torch.permute)',
  inputs: 1,
  params: [{ name: 'axes', type: 'ints', doc: 'output axis i is input axis axes[i]' }],
  build(builder, [x], args) {
    const axes = args
      .list('axes')
      .map((axis) => normaliseAxis('permute', 'axes', axis, x.shape.length));
    return builder.op('permute', [x], { axes });
  },
});

function binary(name: BinaryOpName, doc: string): LayerDef {
  return defineLayer({
    name,
    doc,
    inputs: 2,
    params: [],
    build: (builder, [a, b]) => builder.op(name, [a, b], {}),
  });
}

const concat = defineLayer({
  name: 'concat',
  doc: 'Concatenates the inputs along one axis (torch.cat)',
  inputs: 'variadic',
  params: [{ name: 'axis', type: 'int', default: 1, doc: 'axis to join (default the channels)' }],
  build(builder, inputs, args) {
    const axis = normaliseAxis('concat', 'axis', args.int('axis'), inputs[0].shape.length);
    return builder.op('concat', inputs, { axis });
  },
});

const split = defineLayer({
  name: 'split',
  doc: 'Splits along one axis into parts of the given sizes (torch.split)',
  inputs: 1,
  params: [
    {
      name: 'sizes',
      type: 'ints',
      min: 1,
      doc: 'size of each part, or one size for equal parts (the last may be smaller)',
    },
    { name: 'axis', type: 'int', default: 1, doc: 'axis to split (default the channels)' },
    {
      name: 'parts',
      type: 'ints',
      min: 0,
      default: null,
      doc: 'indices of the parts to return, in order (default all); the others add no op',
    },
  ],
  build(builder, [x], args) {
    const axis = normaliseAxis('split', 'axis', args.int('axis'), x.shape.length);
    const extent = x.shape[axis];
    let sizes = args.list('sizes');
    if (sizes.length === 1) {
      const chunk = sizes[0];
      sizes = Array.from({ length: Math.ceil(extent / chunk) }, (_, i) =>
        Math.min(chunk, extent - i * chunk),
      );
    }
    if (sizes.reduce((sum, size) => sum + size, 0) !== extent) {
      throw new ArgumentError(
        `split: sizes [${sizes.join(', ')}] must add up to ${extent}, the size of axis ${axis}`,
        'sizes',
      );
    }
    const parts = args.isNull('parts') ? sizes.map((_, index) => index) : args.list('parts');
    const outside = parts.find((part) => part >= sizes.length);
    if (outside !== undefined) {
      throw new ArgumentError(
        `split: part ${outside} does not exist because sizes [${sizes.join(', ')}] make ` +
          `${sizes.length} parts; use indices 0 to ${sizes.length - 1}`,
        'parts',
      );
    }
    return parts.map((part) => {
      const begin = sizes.slice(0, part).reduce((sum, size) => sum + size, 0);
      const starts = x.shape.map((_, i) => (i === axis ? begin : 0));
      const ends = x.shape.map((full, i) => (i === axis ? begin + sizes[part] : full));
      const step = x.shape.map(() => 1);
      return builder.op('slice', [x], { begin: starts, end: ends, step });
    });
  },
});

function reduction(name: 'mean' | 'sum' | 'max', doc: string): LayerDef {
  return defineLayer({
    name,
    doc,
    inputs: 1,
    params: [
      { name: 'axes', type: 'ints', doc: 'reduced axes (negative count from the end)' },
      { name: 'keepDims', type: 'bool', default: false, doc: 'keep reduced axes with size 1' },
    ],
    build(builder, [x], args) {
      const axes = args
        .list('axes')
        .map((axis) => normaliseAxis(name, 'axes', axis, x.shape.length));
      const sorted = [...new Set(axes)].sort((a, b) => a - b);
      if (sorted.length !== axes.length) {
        throw new ArgumentError(`${name}: axes [${axes.join(', ')}] repeat an axis`, 'axes');
      }
      return builder.op(name, [x], { axes: sorted, keepDims: args.bool('keepDims') });
    },
  });
}

const scale = defineLayer({
  name: 'scale',
  doc: 'Multiplies by a constant',
  inputs: 1,
  params: [{ name: 'factor', type: 'float', doc: 'the constant' }],
  build: (builder, [x], args) => builder.op('scale', [x], { factor: args.float('factor') }),
});

const pad = defineLayer({
  name: 'pad',
  doc: 'Pads the spatial axes on both sides (torch.nn.functional.pad)',
  inputs: 1,
  params: [
    { name: 'padding', type: 'ints', min: 0, doc: 'voxels added on both sides of each axis' },
    {
      name: 'mode',
      type: 'enum',
      values: ['constant', 'reflect', 'replicate', 'circular'],
      default: 'constant',
      doc: 'how new voxels are filled',
    },
    { name: 'value', type: 'float', default: 0, doc: "fill value of 'constant' mode" },
  ],
  build(builder, [x], args) {
    const spatial = args.perAxis('padding', spatialDimsOf('pad', x));
    const padding = [[0, 0] as const, [0, 0] as const, ...spatial.map((p) => [p, p] as const)];
    const mode = args.string('mode') as 'constant' | 'reflect' | 'replicate' | 'circular';
    return builder.op('pad', [x], { padding, mode, value: args.float('value') });
  },
});

export const TENSOR_LAYERS: LayerDef[] = [
  linear,
  flatten,
  reshape,
  permute,
  binary('add', 'Element-wise sum with broadcasting'),
  binary('sub', 'Element-wise difference with broadcasting'),
  binary('mul', 'Element-wise product with broadcasting'),
  binary('div', 'Element-wise quotient with broadcasting'),
  concat,
  split,
  reduction('mean', 'Mean over axes'),
  reduction('sum', 'Sum over axes'),
  reduction('max', 'Maximum over axes'),
  scale,
  pad,
];
