// The op table: every primitive forward op of the IR, keyed by name, with typed attributes,
// shape inference and a FLOP count. The engine keys its gradient rules, CPU references and
// kernels by the same names.
//
// FLOP conventions (forward, whole batch): a multiply-add counts 2 (conv, convTranspose, linear,
// matmul) and a bias add 1 per output. Element-wise ops count 1 per element, pooling 1 per window
// element and output, norms 6 per element, softmax 5 per element and reductions 1 per input
// element. Data movement (reshape, permute, concat, slice, pad, broadcastTo) counts 0.

import { CONV_OPS, type ConvOpAttrs } from './conv.js';
import { ELEMENTWISE_OPS, type ElementwiseOpAttrs } from './elementwise.js';
import { LINEAR_OPS, type LinearOpAttrs } from './linear.js';
import { NORM_OPS, type NormOpAttrs } from './norm.js';
import { POOL_OPS, type PoolOpAttrs } from './pool.js';
import { REDUCE_OPS, type ReduceOpAttrs } from './reduce.js';
import { SHAPE_OPS, type ShapeOpAttrs } from './shape.js';
import {
  LOSS_GRAD_OPS,
  LOSS_OPS,
  type LossGradOpAttrs,
  type LossOpAttrs,
} from '../../losses/ops.js';
import { GRAD_OPS, type GradOpAttrs } from '../autodiff-ops.js';
import type { OpDef } from './types.js';

/** The forward ops: what layers build and what autodiff differentiates. */
export type ForwardOpAttrs = ConvOpAttrs &
  PoolOpAttrs &
  NormOpAttrs &
  LinearOpAttrs &
  ShapeOpAttrs &
  ElementwiseOpAttrs &
  ReduceOpAttrs &
  LossOpAttrs;

/** Every op of the IR: the forward ops and the gradient ops backward passes add. */
export type OpAttrs = ForwardOpAttrs & GradOpAttrs & LossGradOpAttrs;

export type OpName = keyof OpAttrs;
export type ForwardOpName = keyof ForwardOpAttrs;

const FORWARD_OPS: { readonly [K in ForwardOpName]: OpDef<ForwardOpAttrs[K]> } = {
  ...CONV_OPS,
  ...POOL_OPS,
  ...NORM_OPS,
  ...LINEAR_OPS,
  ...SHAPE_OPS,
  ...ELEMENTWISE_OPS,
  ...REDUCE_OPS,
  ...LOSS_OPS,
};

export const OPS: { readonly [K in OpName]: OpDef<OpAttrs[K]> } = {
  ...FORWARD_OPS,
  ...GRAD_OPS,
  ...LOSS_GRAD_OPS,
};

export const OP_NAMES = Object.keys(OPS) as OpName[];
export const FORWARD_OP_NAMES = Object.keys(FORWARD_OPS) as ForwardOpName[];

export type { ConvAttrs, ConvTransposeAttrs } from './conv.js';
export type { BinaryOpName, UnaryOpName } from './elementwise.js';
export type { MatmulAttrs } from './linear.js';
export type {
  BatchNormAttrs,
  DropoutAttrs,
  GroupNormAttrs,
  InstanceNormAttrs,
  LayerNormAttrs,
} from './norm.js';
export type { AdaptivePoolAttrs, AvgPoolAttrs, MaxPoolAttrs, UpsampleAttrs } from './pool.js';
export type { ReduceAttrs, SoftmaxAttrs } from './reduce.js';
export type {
  BroadcastToAttrs,
  ConcatAttrs,
  PadAttrs,
  PermuteAttrs,
  ReshapeAttrs,
  SliceAttrs,
} from './shape.js';
export { broadcastShapes, type AxisPadding, type OpDef } from './types.js';
