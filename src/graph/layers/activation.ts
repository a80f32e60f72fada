// Activation layers, one per PyTorch activation module, with PyTorch's argument defaults.

import type { UnaryOpName } from '../ops/index.js';
import type { ParamSpec } from './args.js';
import { defineLayer, normaliseAxis, type LayerDef } from './define.js';

type AttrsOf = (values: Readonly<Record<string, unknown>>) => Record<string, unknown>;

function activation(
  name: string,
  op: UnaryOpName,
  doc: string,
  params: ParamSpec[] = [],
  attrs: AttrsOf = () => ({}),
): LayerDef {
  return defineLayer({
    name,
    doc,
    inputs: 1,
    params,
    build: (builder, [x], args) => builder.op(op, [x], attrs(args.values) as never),
  });
}

const ALPHA: ParamSpec = { name: 'alpha', type: 'float', default: 1, doc: 'saturation value' };

const prelu = defineLayer({
  name: 'prelu',
  doc: 'Leaky ReLU with a learned negative slope (nn.PReLU)',
  inputs: 1,
  params: [
    {
      name: 'numParameters',
      type: 'int',
      min: 1,
      default: 1,
      doc: 'number of slopes: 1, or the channel count for one slope per channel',
    },
    { name: 'init', type: 'float', default: 0.25, doc: 'initial slope' },
  ],
  build(builder, [x], args) {
    const weight = builder.param('weight', [args.int('numParameters')], {
      kind: 'constant',
      value: args.float('init'),
    });
    return builder.op('prelu', [x, weight], {});
  },
});

// NOTE: nn.Softmax() without dim (what ClinicaDL's output_act 'softmax' builds) picks axis 0 for
// inputs of rank 0, 1 or 3, so a 1D ConvEncoder output differs there. The default here is axis 1.
function softmaxLayer(name: 'softmax' | 'logSoftmax', doc: string): LayerDef {
  return defineLayer({
    name,
    doc,
    inputs: 1,
    params: [
      {
        name: 'axis',
        type: 'int',
        default: 1,
        doc: 'axis that sums to one (negative counts from the end; default the channels)',
      },
    ],
    build(builder, [x], args) {
      const axis = normaliseAxis(name, 'axis', args.int('axis'), x.shape.length);
      return builder.op(name, [x], { axis });
    },
  });
}

export const ACTIVATION_LAYERS: LayerDef[] = [
  activation('relu', 'relu', 'max(0, x) (nn.ReLU)'),
  activation(
    'leakyRelu',
    'leakyRelu',
    'max(0, x) + negativeSlope * min(0, x) (nn.LeakyReLU)',
    [{ name: 'negativeSlope', type: 'float', default: 0.01, doc: 'slope for x < 0' }],
    (values) => ({ negativeSlope: values.negativeSlope }),
  ),
  prelu,
  activation('elu', 'elu', 'Exponential linear unit (nn.ELU)', [ALPHA], (values) => ({
    alpha: values.alpha,
  })),
  activation('selu', 'selu', 'Scaled exponential linear unit (nn.SELU)'),
  activation('celu', 'celu', 'Continuously differentiable ELU (nn.CELU)', [ALPHA], (values) => ({
    alpha: values.alpha,
  })),
  activation(
    'gelu',
    'gelu',
    'Gaussian error linear unit (nn.GELU)',
    [
      {
        name: 'approximate',
        type: 'enum',
        values: ['none', 'tanh'],
        default: 'none',
        doc: "'tanh' uses the tanh approximation",
      },
    ],
    (values) => ({ approximate: values.approximate }),
  ),
  activation('mish', 'mish', 'x * tanh(softplus(x)) (nn.Mish)'),
  activation('sigmoid', 'sigmoid', '1 / (1 + exp(-x)) (nn.Sigmoid)'),
  activation('tanh', 'tanh', 'Hyperbolic tangent (nn.Tanh)'),
  activation('relu6', 'relu6', 'min(max(0, x), 6) (nn.ReLU6)'),
  activation(
    'softplus',
    'softplus',
    'log(1 + exp(beta * x)) / beta (nn.Softplus)',
    [
      { name: 'beta', type: 'float', default: 1, doc: 'sharpness' },
      { name: 'threshold', type: 'float', default: 20, doc: 'beta * x above which x is returned' },
    ],
    (values) => ({ beta: values.beta, threshold: values.threshold }),
  ),
  activation('exp', 'exp', 'exp(x)'),
  activation('log', 'log', 'Natural logarithm'),
  activation('sqrt', 'sqrt', 'Square root'),
  activation('neg', 'neg', '-x'),
  softmaxLayer('softmax', 'Softmax along one axis (nn.Softmax)'),
  softmaxLayer('logSoftmax', 'Log of the softmax along one axis (nn.LogSoftmax)'),
];
