// Models: the Model interface, SupervisedModel and ReconstructionModel, and rebuilding a
// model from its JSON.

import { UserError } from '../errors.js';
import { closestName } from '../graph/suggest.js';
import type { CustomLoss } from '../losses/configs.js';
import type { Model } from './model.js';
import { ReconstructionModel } from './reconstruction.js';
import { SupervisedModel, type SupervisedOptions } from './supervised.js';

export type ModelFactory = (
  json: Record<string, unknown>,
  customLosses: readonly CustomLoss[],
) => Model;

const factories = new Map<string, ModelFactory>([
  [
    'SupervisedModel',
    (json, custom) => new SupervisedModel(json as unknown as SupervisedOptions, custom),
  ],
  [
    'ReconstructionModel',
    (json, custom) => new ReconstructionModel(json as unknown as SupervisedOptions, custom),
  ],
]);

/** Registers a Model subclass, so that modelFromJSON can rebuild it from experiment.json. */
export function registerModel(name: string, factory: ModelFactory): void {
  factories.set(name, factory);
}

/** Rebuilds a model from its toJSON(); custom losses are passed again by name. */
export function modelFromJSON(json: unknown, customLosses: readonly CustomLoss[] = []): Model {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new UserError(
      `A model config must be a JSON object with a name, got ${JSON.stringify(json)}.`,
    );
  }
  const { name, ...fields } = json as Record<string, unknown>;
  const factory = factories.get(String(name));
  if (!factory) {
    const suggestion = closestName(String(name), factories.keys());
    throw new UserError(
      `Unknown model ${JSON.stringify(name)}.` +
        (suggestion ? ` Did you mean '${suggestion}'?` : '') +
        ` Known models: ${[...factories.keys()].join(', ')}; register subclasses with registerModel.`,
    );
  }
  return factory(fields, customLosses);
}

export { Model, type CompileTarget, type EvaluatedBatch } from './model.js';
export {
  resolveNetwork,
  type NetNetwork,
  type NetworkSpec,
  type ResolvedNetwork,
} from './network.js';
export { ReconstructionModel } from './reconstruction.js';
export { infererFromJSON, infererToJSON, type Inferer } from './inferers.js';
export { SupervisedModel, type ObjectiveTerms, type SupervisedOptions } from './supervised.js';
