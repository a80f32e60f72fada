// Plans a fill of a tensor with a constant (shaders/fill.wgsl).

import { WGSL_LINEAR_WORKGROUP } from '../runtime/index.js';
import template from '../../shaders/fill.wgsl';
import { checkTensor, f32, u32, vectorLayout, type KernelPlan, type PlanLimits } from './common.js';
import { specialize } from './template.js';

/** Plans y[i] = value for `elements` elements. Bindings: (0) y. */
export function planFill(elements: number, value: number, limits: PlanLimits): KernelPlan {
  checkTensor(limits, 'fill output', elements);
  const { type, count } = vectorLayout(elements);
  const source = specialize('fill', template, { T: type, COUNT: u32(count), VALUE: f32(value) });
  return {
    spec: { name: 'fill', source: source + WGSL_LINEAR_WORKGROUP, bindings: ['storage'] },
    workgroups: Math.ceil(count / 256),
    flops: 0,
    bytes: 4 * elements,
  };
}
