// Gradient rules of the loss ops.

import { registerVjp } from '../graph/autodiff-registry.js';
import type { CrossEntropyAttrs } from './ops.js';

registerVjp('crossEntropy', (context, node, [dy]) => {
  const [scores, targets, weight] = node.inputs;
  const loss = node.outputs[0]!;
  const inputs = [dy!, scores!, targets!, loss, ...(weight ? [weight] : [])];
  const [dscores] = context.emit('crossEntropyGrad', inputs, node.attrs as CrossEntropyAttrs);
  // Targets are integers and get no gradient; class weights are constants.
  return [dscores, undefined, undefined];
});
