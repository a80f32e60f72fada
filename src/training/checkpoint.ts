// checkpoints/last: the model's weights (model.safetensors), the optimizer's moments and
// gradient accumulators (optimizer.safetensors) and the trainer's state (trainer.json: epoch,
// optimizer steps, history, best values, early stopping, RNG seed).
//
// A kill at any moment leaves one complete checkpoint, the previous or the new one. The new
// files are first written to last.next/, trainer.json last, so its presence marks last.next/
// complete. A storage with rename (nodeStorage, memoryStorage) then swaps the folders: last/
// becomes last.old/, last.next/ becomes last/, and last.old/ is removed. A storage without
// rename gets the files copied over last/, after which last.next/trainer.json is removed before
// the rest of last.next/. Either way a reader takes last.next/ while it is complete, else
// last/, else last.old/. Each file is itself written atomically by the storage.

import { UserError } from '../errors.js';
import type { Model } from '../models/model.js';
import type { EpochRecord } from './callbacks.js';
import { encodeWeights, MAPS_VERSION, type Maps } from './maps.js';
import { joinPath } from './storage.js';

export interface TrainerState {
  mapsVersion: number;
  /** Last finished epoch (0-based). */
  epoch: number;
  /** Optimizer steps taken. */
  steps: number;
  /** Micro-batches taken (equal to steps without gradient accumulation). */
  microSteps?: number;
  history: EpochRecord[];
  /** Best value of each selection metric so far. */
  best: Record<string, number>;
  /** Validations without improvement of the early-stopping metric, and its best value. */
  earlyStopping: { best: number | null; badValidations: number };
  /** State of the learning-rate schedule, or null without one. */
  schedule: Record<string, number | null> | null;
  /** The batch order depends only on this seed and the epoch. */
  rng: { seed: number; nextEpoch: number };
}

const STATE_FILE = 'trainer.json';
/** The files of a checkpoint, trainer.json last because it marks a complete copy. */
const FILES = ['model.safetensors', 'optimizer.safetensors', STATE_FILE];

/** Writes the checkpoint of `model` and `state` into `folder` (relative to the experiment). */
export async function saveCheckpoint(
  maps: Maps,
  folder: string,
  model: Model,
  state: TrainerState,
) {
  const weights = await model.readState();
  const optimizer = await model.readOptimizerState();
  const optimizerShapes = new Map(
    [...optimizer.tensors].map(([key, data]) => [key, [data.length]]),
  );
  const json = { ...state, microSteps: optimizer.microSteps };
  const contents = [
    encodeWeights(weights, model.stateShapes()),
    encodeWeights(optimizer.tensors, optimizerShapes),
    `${JSON.stringify(json, null, 2)}\n`,
  ];
  const next = `${folder}.next`;
  // A complete last.next/ left by a kill is the newest checkpoint, so it is promoted first.
  if (await maps.storage.exists(joinPath(next, STATE_FILE))) await promote(maps, folder);
  await maps.storage.remove(next);
  for (const [index, name] of FILES.entries()) {
    await maps.storage.writeFile(joinPath(next, name), contents[index]!);
  }
  await promote(maps, folder, contents);
}

/**
 * Makes the complete `<folder>.next` the checkpoint `folder`. `contents` are its files, read
 * from it when not given.
 */
async function promote(maps: Maps, folder: string, contents?: readonly (Uint8Array | string)[]) {
  const { storage } = maps;
  const next = `${folder}.next`;
  const old = `${folder}.old`;
  if (storage.rename) {
    await storage.remove(old);
    // A folder without files is removed rather than kept, because it contains no checkpoint.
    if (await storage.exists(folder)) await storage.rename(folder, old);
    else await storage.remove(folder);
    await storage.rename(next, folder);
    await storage.remove(old);
    return;
  }
  for (const [index, name] of FILES.entries()) {
    const data = contents?.[index] ?? (await storage.readFile(joinPath(next, name)));
    await storage.writeFile(joinPath(folder, name), data);
  }
  await storage.remove(joinPath(next, STATE_FILE));
  await storage.remove(next);
}

/**
 * Returns the folder of the last complete checkpoint, or undefined when there is none: a
 * complete `<folder>.next`, else `folder`, else `<folder>.old`.
 */
export async function resolveCheckpoint(maps: Maps, folder: string): Promise<string | undefined> {
  for (const candidate of [`${folder}.next`, folder, `${folder}.old`]) {
    if (await maps.storage.exists(joinPath(candidate, STATE_FILE))) return candidate;
  }
  return undefined;
}

/** Loads the checkpoint into `model` (compiled) and returns the trainer state. */
export async function loadCheckpoint(
  maps: Maps,
  folder: string,
  model: Model,
): Promise<TrainerState> {
  const found = await resolveCheckpoint(maps, folder);
  if (!found) {
    throw new UserError(
      `No checkpoint in ${maps.describe(folder)}. Train with checkpoints first, or start ` +
        'without resume.',
    );
  }
  const path = joinPath(found, STATE_FILE);
  const state = (await maps.readJson(path)) as TrainerState;
  if (state?.mapsVersion !== MAPS_VERSION) {
    throw new UserError(
      `${maps.describe(path)} has mapsVersion ${JSON.stringify(state?.mapsVersion)}; this ` +
        `version reads ${MAPS_VERSION}. Resume with the version that wrote it, or train again.`,
    );
  }
  const weightsPath = joinPath(found, 'model.safetensors');
  const weights = await maps.readWeights(weightsPath);
  for (const name of model.stateShapes().keys()) {
    if (!weights.has(name)) {
      throw new UserError(
        `${maps.describe(weightsPath)} lacks '${name}'; the checkpoint belongs to another ` +
          "network. Resume with the experiment's own network.",
      );
    }
  }
  model.writeState(weights);
  const tensors = await maps.readWeights(joinPath(found, 'optimizer.safetensors'));
  model.writeOptimizerState({
    steps: state.steps,
    microSteps: state.microSteps ?? state.steps,
    tensors,
  });
  return state;
}
