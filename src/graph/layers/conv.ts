// Convolution, transposed convolution, pooling and upsampling layers (PyTorch nn.ConvNd,
// nn.ConvTransposeNd, nn.MaxPoolNd, nn.AvgPoolNd, nn.AdaptiveAvgPoolNd, nn.Upsample).

import { ArgumentError } from '../errors.js';
import type { AxisPadding } from '../ops/index.js';
import type { Args, ParamSpec } from './args.js';
import { defineLayer, spatialDimsOf, symmetricPadding, type LayerDef } from './define.js';
import { biasInitSpec, INIT_PARAMS, weightInitSpec } from './param-init.js';

const OUT_CHANNELS: ParamSpec = {
  name: 'outChannels',
  type: 'int',
  min: 1,
  doc: 'output channels',
};
const KERNEL_SIZE: ParamSpec = {
  name: 'kernelSize',
  type: 'ints',
  min: 1,
  doc: 'window size in voxels, one number or one per spatial axis',
};
const STRIDE: ParamSpec = {
  name: 'stride',
  type: 'ints',
  min: 1,
  default: 1,
  doc: 'step between windows in voxels',
};
const DILATION: ParamSpec = {
  name: 'dilation',
  type: 'ints',
  min: 1,
  default: 1,
  doc: 'spacing between kernel elements in voxels',
};
const GROUPS: ParamSpec = {
  name: 'groups',
  type: 'int',
  min: 1,
  default: 1,
  doc: 'channel groups; inChannels and outChannels must be divisible by it',
};
const BIAS: ParamSpec = { name: 'bias', type: 'bool', default: true, doc: 'add a learned bias' };

/** Resolves conv padding: numbers, 'valid' (none) or 'same' (output size = input, stride 1). */
function convPadding(args: Args, kernel: number[], dilation: number[], stride: number[]) {
  const padding = args.values.padding;
  if (padding === 'valid') return kernel.map((): AxisPadding => [0, 0]);
  if (padding !== 'same') return symmetricPadding(args.perAxis('padding', kernel.length));
  if (stride.some((step) => step !== 1)) {
    throw new ArgumentError(
      `conv: padding 'same' needs stride 1 on every axis (as in PyTorch), got stride ` +
        `[${stride.join(', ')}]`,
      'padding',
    );
  }
  // PyTorch puts the odd extra voxel after the input.
  return kernel.map((size, axis): AxisPadding => {
    const total = dilation[axis] * (size - 1);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  });
}

function checkGroups(layer: string, inChannels: number, outChannels: number, groups: number) {
  if (inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw new ArgumentError(
      `${layer}: inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible ` +
        `by groups (${groups})`,
      'groups',
    );
  }
}

const conv = defineLayer({
  name: 'conv',
  doc: 'Convolution over 1 to 3 spatial axes (nn.Conv1d/2d/3d from the input rank)',
  inputs: 1,
  params: [
    OUT_CHANNELS,
    KERNEL_SIZE,
    STRIDE,
    {
      name: 'padding',
      type: 'ints',
      min: 0,
      values: ['same', 'valid'],
      default: 0,
      doc: "zero padding in voxels on both sides, or 'same' or 'valid'",
    },
    DILATION,
    GROUPS,
    BIAS,
    ...INIT_PARAMS,
  ],
  build(builder, [x], args) {
    const spatialDims = spatialDimsOf('conv', x);
    const inChannels = x.shape[1];
    const outChannels = args.int('outChannels');
    const groups = args.int('groups');
    checkGroups('conv', inChannels, outChannels, groups);
    const kernel = args.perAxis('kernelSize', spatialDims);
    const stride = args.perAxis('stride', spatialDims);
    const dilation = args.perAxis('dilation', spatialDims);
    const padding = convPadding(args, kernel, dilation, stride);
    const weightShape = [outChannels, inChannels / groups, ...kernel];
    const inputs = [x, builder.param('weight', weightShape, weightInitSpec(args, weightShape))];
    if (args.bool('bias')) {
      inputs.push(builder.param('bias', [outChannels], biasInitSpec(args, weightShape)));
    }
    return builder.op('conv', inputs, { stride, padding, dilation, groups });
  },
});

const convTranspose = defineLayer({
  name: 'convTranspose',
  doc: 'Transposed convolution (nn.ConvTranspose1d/2d/3d from the input rank)',
  inputs: 1,
  params: [
    OUT_CHANNELS,
    KERNEL_SIZE,
    STRIDE,
    {
      name: 'padding',
      type: 'ints',
      min: 0,
      default: 0,
      doc: 'voxels removed from both sides of the output: dilation * (kernelSize - 1) - padding',
    },
    {
      name: 'outputPadding',
      type: 'ints',
      min: 0,
      default: 0,
      doc: 'voxels added after the last one of each axis; below stride or dilation',
    },
    DILATION,
    GROUPS,
    BIAS,
    ...INIT_PARAMS,
  ],
  build(builder, [x], args) {
    const spatialDims = spatialDimsOf('convTranspose', x);
    const inChannels = x.shape[1];
    const outChannels = args.int('outChannels');
    const groups = args.int('groups');
    checkGroups('convTranspose', inChannels, outChannels, groups);
    const kernel = args.perAxis('kernelSize', spatialDims);
    const weightShape = [inChannels, outChannels / groups, ...kernel];
    const inputs = [x, builder.param('weight', weightShape, weightInitSpec(args, weightShape))];
    if (args.bool('bias')) {
      inputs.push(builder.param('bias', [outChannels], biasInitSpec(args, weightShape)));
    }
    return builder.op('convTranspose', inputs, {
      stride: args.perAxis('stride', spatialDims),
      padding: symmetricPadding(args.perAxis('padding', spatialDims)),
      outputPadding: args.perAxis('outputPadding', spatialDims),
      dilation: args.perAxis('dilation', spatialDims),
      groups,
    });
  },
});

const POOL_PARAMS: ParamSpec[] = [
  KERNEL_SIZE,
  {
    name: 'stride',
    type: 'ints',
    min: 1,
    default: null,
    doc: 'step between windows in voxels (default: kernelSize)',
  },
  {
    name: 'padding',
    type: 'ints',
    min: 0,
    default: 0,
    doc: 'implicit padding in voxels on both sides, at most kernelSize / 2',
  },
  {
    name: 'ceilMode',
    type: 'bool',
    default: false,
    doc: 'round the output size up instead of down',
  },
];

function poolWindow(args: Args, spatialDims: number) {
  const kernelSize = args.perAxis('kernelSize', spatialDims);
  const stride = args.isNull('stride') ? kernelSize : args.perAxis('stride', spatialDims);
  const padding = symmetricPadding(args.perAxis('padding', spatialDims));
  return { kernelSize, stride, padding, ceilMode: args.bool('ceilMode') };
}

const maxPool = defineLayer({
  name: 'maxPool',
  doc: 'Max pooling (nn.MaxPool1d/2d/3d)',
  inputs: 1,
  params: [...POOL_PARAMS, DILATION],
  build(builder, [x], args) {
    const spatialDims = spatialDimsOf('maxPool', x);
    const dilation = args.perAxis('dilation', spatialDims);
    return builder.op('maxPool', [x], { ...poolWindow(args, spatialDims), dilation });
  },
});

const avgPool = defineLayer({
  name: 'avgPool',
  doc: 'Average pooling (nn.AvgPool1d/2d/3d)',
  inputs: 1,
  params: [
    ...POOL_PARAMS,
    {
      name: 'countIncludePad',
      type: 'bool',
      default: true,
      doc: 'count padded zeros in the divisor',
    },
  ],
  build(builder, [x], args) {
    const window = poolWindow(args, spatialDimsOf('avgPool', x));
    return builder.op('avgPool', [x], { ...window, countIncludePad: args.bool('countIncludePad') });
  },
});

function adaptivePool(name: 'adaptiveAvgPool' | 'adaptiveMaxPool', doc: string): LayerDef {
  return defineLayer({
    name,
    doc,
    inputs: 1,
    params: [
      {
        name: 'outputSize',
        type: 'ints',
        min: 1,
        doc: 'output size in voxels, one number or one per spatial axis',
      },
    ],
    build(builder, [x], args) {
      const outputSize = args.perAxis('outputSize', spatialDimsOf(name, x));
      return builder.op(name, [x], { outputSize });
    },
  });
}

const LINEAR_MODES: Record<string, number | undefined> = { bilinear: 2, trilinear: 3 };

const upsample = defineLayer({
  name: 'upsample',
  doc: 'Upsampling by nearest neighbour or (bi/tri)linear interpolation (nn.Upsample)',
  inputs: 1,
  params: [
    { name: 'size', type: 'ints', min: 1, default: null, doc: 'output size in voxels' },
    { name: 'scale', type: 'floats', min: 0, default: null, doc: 'output size / input size' },
    {
      name: 'mode',
      type: 'enum',
      values: ['nearest', 'linear', 'bilinear', 'trilinear'],
      default: 'nearest',
      doc: "interpolation; 'linear' adapts to 1 to 3 spatial axes",
    },
    {
      name: 'alignCorners',
      type: 'bool',
      default: false,
      doc: 'align corner voxels of input and output (linear modes)',
    },
  ],
  build(builder, [x], args) {
    const spatialDims = spatialDimsOf('upsample', x);
    const mode = args.string('mode');
    const required = LINEAR_MODES[mode];
    if (required !== undefined && required !== spatialDims) {
      throw new ArgumentError(
        `upsample: mode '${mode}' needs ${required} spatial axes but the input has ` +
          `${spatialDims}; use mode 'linear' for any number of axes`,
        'mode',
      );
    }
    if (args.isNull('size') === args.isNull('scale')) {
      throw new ArgumentError('upsample: give exactly one of size and scale', 'size');
    }
    const spatial = x.shape.slice(2);
    const scale = args.isNull('scale') ? null : args.perAxis('scale', spatialDims);
    const size = scale
      ? spatial.map((extent, axis) => Math.floor(extent * scale[axis]))
      : args.perAxis('size', spatialDims);
    return builder.op('upsample', [x], {
      mode: mode === 'nearest' ? 'nearest' : 'linear',
      size,
      scale,
      alignCorners: args.bool('alignCorners'),
    });
  },
});

export const CONV_LAYERS: LayerDef[] = [
  conv,
  convTranspose,
  maxPool,
  avgPool,
  adaptivePool('adaptiveAvgPool', 'Adaptive average pooling (nn.AdaptiveAvgPool1d/2d/3d)'),
  adaptivePool('adaptiveMaxPool', 'Adaptive max pooling (nn.AdaptiveMaxPool1d/2d/3d)'),
  upsample,
];
