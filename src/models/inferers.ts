// The `inferer` argument of a SupervisedModel: an Inferer of src/inference, or its JSON
// (`{ name: 'PatchInferer', patchSize: [32, 32, 32], batchSize: 4 }`).

import { UserError } from '../errors.js';
import { closestName } from '../graph/suggest.js';
import type { ForwardFunction, InferenceVolume } from '../inference/common.js';
import { PatchInferer, SliceInferer, WholeImageInferer } from '../inference/index.js';

export type Inferer = WholeImageInferer | PatchInferer | SliceInferer;

const INFERERS = {
  WholeImageInferer: (options: object) =>
    new WholeImageInferer(options as ConstructorParameters<typeof WholeImageInferer>[0]),
  PatchInferer: (options: object) =>
    new PatchInferer(options as ConstructorParameters<typeof PatchInferer>[0]),
  SliceInferer: (options: object) =>
    new SliceInferer(options as ConstructorParameters<typeof SliceInferer>[0]),
};

/** Returns an inferer's name and options, from which infererFromJSON rebuilds it. */
export function infererToJSON(inferer: Inferer): { name: string; [key: string]: unknown } {
  return { name: inferer.constructor.name, ...structuredClone({ ...inferer }) };
}

/** Accepts an Inferer or its JSON. */
export function infererFromJSON(json: unknown): Inferer {
  if (
    json instanceof WholeImageInferer ||
    json instanceof PatchInferer ||
    json instanceof SliceInferer
  ) {
    return json;
  }
  const { name, ...options } = (json ?? {}) as { name?: unknown };
  const build = INFERERS[String(name) as keyof typeof INFERERS];
  if (!build) {
    const suggestion = closestName(String(name), Object.keys(INFERERS));
    throw new UserError(
      `Unknown inferer ${JSON.stringify(name)}.` +
        (suggestion ? ` Did you mean '${suggestion}'?` : '') +
        ` Available: ${Object.keys(INFERERS).join(', ')}.`,
    );
  }
  return build(options);
}

/** Runs `inferer` over `volumes`, one output volume each. */
export async function inferVolumes(
  inferer: Inferer,
  forward: ForwardFunction,
  volumes: readonly InferenceVolume[],
): Promise<InferenceVolume[]> {
  if (inferer instanceof WholeImageInferer)
    return (inferer as WholeImageInferer).infer(forward, volumes);
  // instanceof cannot narrow here, because the three classes have members of the same names.
  const perVolume = inferer as unknown as {
    infer(forward: ForwardFunction, volume: InferenceVolume): Promise<InferenceVolume>;
  };
  const outputs: InferenceVolume[] = [];
  for (const volume of volumes) outputs.push(await perVolume.infer(forward, volume));
  return outputs;
}
