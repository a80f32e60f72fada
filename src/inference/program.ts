// The forward function of a compiled network: write the batch to its input, run the program,
// read its output back.

import { UserError } from '../errors.js';
import type { CompiledGraph } from '../kernels/compile.js';
import type { ForwardFunction } from './common.js';

/**
 * Returns a ForwardFunction over a program compiled from a network's graph (in eval mode for
 * inference). The program's input shape fixes the batch; network configs name the input
 * 'input' and the output 'output'. The output must be kept (a graph output is by default).
 */
export function programForward(
  compiled: CompiledGraph,
  inputName = 'input',
  outputName = 'output',
): ForwardFunction {
  const output = compiled.graph.output(outputName);
  if (output === undefined) {
    const names = compiled.graph.outputs.map((entry) => entry.name).join(', ');
    throw new UserError(`The program has no output '${outputName}'; its outputs are ${names}.`);
  }
  if (compiled.graph.input(inputName) === undefined) {
    const names = compiled.graph.inputs.map((entry) => entry.name).join(', ');
    throw new UserError(`The program has no input '${inputName}'; its inputs are ${names}.`);
  }
  return async (batch) => {
    compiled.write(inputName, batch);
    compiled.run();
    return compiled.read(output);
  };
}
