// The NETWORKS registry: network name -> config factory, so `{ "name": "CNN", ... }` JSON builds
// the right config class. The builder networks register here; other network modules add
// theirs with registerNetwork.

import { UserError } from '../errors.js';
import { didYouMean } from '../graph/suggest.js';
import { AutoEncoderConfig, VAEConfig } from './autoencoder.js';
import { CNNConfig } from './cnn.js';
import type { NetworkConfig } from './config.js';
import { ConvDecoderConfig } from './conv-decoder.js';
import { ConvEncoderConfig } from './conv-encoder.js';
import { GeneratorConfig } from './generator.js';
import { MLPConfig } from './mlp.js';

/** Builds a config from its JSON form (with or without the `name` key). */
export type NetworkFactory = (json: unknown) => NetworkConfig<object>;

const registry = new Map<string, NetworkFactory>([
  ['MLP', MLPConfig.fromJSON],
  ['ConvEncoder', ConvEncoderConfig.fromJSON],
  ['ConvDecoder', ConvDecoderConfig.fromJSON],
  ['CNN', CNNConfig.fromJSON],
  ['Generator', GeneratorConfig.fromJSON],
  ['AutoEncoder', AutoEncoderConfig.fromJSON],
  ['VAE', VAEConfig.fromJSON],
]);

/** Read-only view of the registered networks. */
export const NETWORKS: ReadonlyMap<string, NetworkFactory> = registry;

/** Adds a network; registering a name twice is a programming error and throws. */
export function registerNetwork(name: string, factory: NetworkFactory): void {
  if (registry.has(name)) throw new Error(`Network '${name}' is already registered`);
  registry.set(name, factory);
}

/** Builds the config named by `json.name`; unknown names get "did you mean". */
export function networkFromJSON(json: unknown): NetworkConfig<object> {
  const name = (json as { name?: unknown } | null)?.name;
  if (typeof name !== 'string') {
    throw new UserError(
      `A network config needs a "name" naming the network, one of: ${[...registry.keys()].join(', ')}`,
    );
  }
  const factory = registry.get(name);
  if (factory === undefined) {
    throw new UserError(
      `Unknown network '${name}'.${didYouMean(name, registry.keys())} Known networks: ` +
        `${[...registry.keys()].join(', ')}`,
    );
  }
  return factory(json);
}
