// Optional init arguments of the conv, convTranspose and linear layers, for networks whose
// PyTorch reference re-initialises its layers (torchvision's ResNet, DenseNet and ViT). The
// default is PyTorch's own: kaiming_uniform_(a=√5) weights and U(±1/√fanIn) biases.

import { ArgumentError } from '../errors.js';
import { defaultBiasInit, defaultWeightInit, fanIn, fanOut, type InitSpec } from '../init-spec.js';
import type { Args, ParamSpec } from './args.js';

export const WEIGHT_INITS = [
  'default',
  'kaimingNormalFanIn',
  'kaimingNormalFanOut',
  'xavierUniform',
  'truncatedNormal',
  'normal',
  'zeros',
] as const;

export const BIAS_INITS = ['default', 'zeros', 'normal'] as const;

export const INIT_PARAMS: ParamSpec[] = [
  {
    name: 'weightInit',
    type: 'enum',
    values: WEIGHT_INITS,
    default: 'default',
    doc:
      'weight init: PyTorch default, kaiming normal N(0, 2/fan), xavier uniform, truncated ' +
      'normal in [-2, 2], normal, or zeros',
  },
  {
    name: 'weightStd',
    type: 'float',
    min: 0,
    default: null,
    doc: "std of 'normal' (required) or 'truncatedNormal' (default sqrt(1/fanIn))",
  },
  {
    name: 'biasInit',
    type: 'enum',
    values: BIAS_INITS,
    default: 'default',
    doc: 'bias init: PyTorch default U(±1/sqrt(fanIn)), zeros, or normal',
  },
  { name: 'biasStd', type: 'float', min: 0, default: null, doc: "std of 'normal' biases" },
];

function requiredStd(args: Args, name: 'weightStd' | 'biasStd', init: string): number {
  if (args.isNull(name)) {
    throw new ArgumentError(
      `${args.layer}: ${init} init 'normal' needs the argument ${name}`,
      name,
    );
  }
  return args.float(name);
}

/** Returns the init spec of a weight in PyTorch layout from the layer's init arguments. */
export function weightInitSpec(args: Args, shape: readonly number[]): InitSpec {
  const init = args.string('weightInit') as (typeof WEIGHT_INITS)[number];
  switch (init) {
    case 'default':
      return defaultWeightInit(shape);
    case 'kaimingNormalFanIn':
      return { kind: 'normal', mean: 0, std: Math.sqrt(2 / fanIn(shape)) };
    case 'kaimingNormalFanOut':
      return { kind: 'normal', mean: 0, std: Math.sqrt(2 / fanOut(shape)) };
    case 'xavierUniform':
      return { kind: 'xavierUniform', gain: 1, fanIn: fanIn(shape), fanOut: fanOut(shape) };
    case 'truncatedNormal': {
      const std = args.isNull('weightStd') ? Math.sqrt(1 / fanIn(shape)) : args.float('weightStd');
      return { kind: 'truncatedNormal', mean: 0, std, low: -2, high: 2 };
    }
    case 'normal':
      return { kind: 'normal', mean: 0, std: requiredStd(args, 'weightStd', 'weight') };
    case 'zeros':
      return { kind: 'constant', value: 0 };
  }
}

/** Returns the init spec of a bias from the layer's init arguments and its weight shape. */
export function biasInitSpec(args: Args, weightShape: readonly number[]): InitSpec {
  const init = args.string('biasInit') as (typeof BIAS_INITS)[number];
  switch (init) {
    case 'default':
      return defaultBiasInit(weightShape);
    case 'zeros':
      return { kind: 'constant', value: 0 };
    case 'normal':
      return { kind: 'normal', mean: 0, std: requiredStd(args, 'biasStd', 'bias') };
  }
}
