// Plans nearest and (bi/tri)linear upsampling of [N, C, ...spatial] (1 to 3 spatial axes)
// and its input gradient. Kernels see every input as 3D, with unit leading axes for 1D and 2D.

import { UserError } from '../errors.js';
import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import backwardTemplate from '../../shaders/upsample-backward.wgsl';
import common from '../../shaders/upsample-common.wgsl';
import forwardTemplate from '../../shaders/upsample-forward.wgsl';
import {
  checkShape,
  checkTensor,
  f32,
  numel,
  type KernelPlan,
  type PlanLimits,
  type Shape,
} from './common.js';
import { specialize, wgslNumber, type TemplateValue } from './template.js';

export interface UpsampleGeometry {
  /** [N, C, ...spatial], 1 to 3 spatial axes. */
  inputShape: Shape;
  /** Output size per spatial axis. */
  outputSize: readonly number[];
  /** 'linear' is linear, bilinear or trilinear for 1, 2 or 3 spatial axes. */
  mode: 'nearest' | 'linear';
  /** Linear mode only: align the corner pixels of input and output. Default false. */
  alignCorners?: boolean;
  /**
   * Scale factors when the layer was given them: PyTorch then maps output to input
   * coordinates with 1 / scale instead of inputSize / outputSize. Default none.
   */
  scaleFactor?: readonly number[];
}

/** Returns the output-to-input coordinate scale of one axis, in f32 as PyTorch computes it. */
export function upsampleScale(geometry: UpsampleGeometry, axis: number): number {
  const size = geometry.inputShape[axis + 2]!;
  const out = geometry.outputSize[axis]!;
  if (geometry.mode === 'linear' && geometry.alignCorners) {
    return out > 1 ? Math.fround((size - 1) / (out - 1)) : 0;
  }
  const factor = geometry.scaleFactor?.[axis];
  return Math.fround(factor !== undefined ? 1 / factor : size / out);
}

function constants(geometry: UpsampleGeometry, limits: PlanLimits, backward: boolean) {
  const { inputShape, outputSize, mode } = geometry;
  checkShape('upsample input', inputShape);
  const dims = inputShape.length - 2;
  if (dims < 1 || dims > 3) {
    throw new UserError(
      'Upsample input must be [N, C, ...spatial] with 1 to 3 spatial axes, got ' +
        `[${inputShape.join(', ')}].`,
    );
  }
  if (outputSize.length !== dims || outputSize.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new UserError(
      `Upsample outputSize must list ${dims} positive integers, got [${outputSize}].`,
    );
  }
  if (mode !== 'nearest' && mode !== 'linear') {
    throw new UserError(`Unknown upsample mode '${mode}'; expected 'nearest' or 'linear'.`);
  }
  const planes = inputShape[0]! * inputShape[1]!;
  const inputs = planes * numel(inputShape.slice(2));
  const outputs = planes * numel(outputSize);
  checkTensor(limits, 'upsample input', inputs);
  checkTensor(limits, 'upsample output', outputs);
  const lead = 3 - dims;
  const sizeIn = [1, 1, 1].map((one, a) => (a < lead ? one : inputShape[a - lead + 2]!));
  const sizeOut = [1, 1, 1].map((one, a) => (a < lead ? one : outputSize[a - lead]!));
  const scales = [1, 1, 1].map((one, a) => (a < lead ? one : upsampleScale(geometry, a - lead)));
  const i32 = (value: number) => wgslNumber(value, 'i32');
  const values: Record<string, TemplateValue> = {
    COUNT: wgslNumber(backward ? inputs : outputs, 'u32'),
    LINEAR: mode === 'linear',
    ALIGN_CORNERS: mode === 'linear' && (geometry.alignCorners ?? false),
  };
  ['D', 'H', 'W'].forEach((axis, k) => {
    values[`I${axis}`] = i32(sizeIn[k]!);
    values[`O${axis}`] = i32(sizeOut[k]!);
    values[`SCALE_${axis}`] = f32(scales[k]!);
  });
  return { values, inputs, outputs };
}

/** Plans upsampling. Bindings: (0) x, (1) y. */
export function planUpsample(geometry: UpsampleGeometry, limits: PlanLimits): KernelPlan {
  const { values, inputs, outputs } = constants(geometry, limits, false);
  const source = specialize('upsample-forward', forwardTemplate, values);
  return {
    spec: {
      name: `upsample_${geometry.mode}`,
      source: source + common + WGSL_LINEAR_WORKGROUP,
      bindings: ['read-only-storage', 'storage'],
    },
    workgroups: Math.ceil(outputs / 256),
    flops: 16 * outputs,
    bytes: 4 * (inputs + outputs),
  };
}

/** Plans upsampling's input gradient. Bindings: (0) dy, (1) dx. */
export function planUpsampleBackward(geometry: UpsampleGeometry, limits: PlanLimits): KernelPlan {
  const { values, inputs, outputs } = constants(geometry, limits, true);
  const source = specialize('upsample-backward', backwardTemplate, values);
  return {
    spec: {
      name: `upsample_${geometry.mode}_backward`,
      source: source + common + WGSL_LINEAR_WORKGROUP,
      bindings: ['read-only-storage', 'storage'],
    },
    workgroups: Math.ceil(inputs / 256),
    flops: 4 * outputs,
    bytes: 4 * (inputs + outputs),
  };
}
