// checkpoints/last: the model's weights (model.safetensors), the optimizer's moments and
// gradient accumulators (optimizer.safetensors) and the trainer's state (trainer.json: epoch,
// optimizer steps, history, best values, early stopping, RNG seed).
// The folder is replaced as a whole, so a kill leaves the previous checkpoint or the new one.

import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { Model } from '../models/model.js';
import type { EpochRecord } from './callbacks.js';
import {
  MAPS_VERSION,
  readJson,
  readWeights,
  replaceFolder,
  resolveFolder,
  writeJson,
  writeWeights,
} from './maps.js';

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

export async function saveCheckpoint(folder: string, model: Model, state: TrainerState) {
  const weights = await model.readState();
  const shapes = model.stateShapes();
  const optimizer = await model.readOptimizerState();
  const optimizerShapes = new Map(
    [...optimizer.tensors].map(([key, data]) => [key, [data.length]]),
  );
  await replaceFolder(folder, async (next) => {
    await writeWeights(join(next, 'model.safetensors'), weights, shapes);
    await writeWeights(join(next, 'optimizer.safetensors'), optimizer.tensors, optimizerShapes);
    await writeJson(join(next, 'trainer.json'), { ...state, microSteps: optimizer.microSteps });
  });
}

/** Loads the checkpoint into `model` (compiled) and returns the trainer state. */
export async function loadCheckpoint(folder: string, model: Model): Promise<TrainerState> {
  const found = await resolveFolder(folder);
  if (!found) {
    throw new UserError(
      `No checkpoint in '${folder}'. Train with checkpoints first, or start without resume.`,
    );
  }
  const path = join(found, 'trainer.json');
  const state = (await readJson(path)) as TrainerState;
  if (state?.mapsVersion !== MAPS_VERSION) {
    throw new UserError(
      `'${path}' has mapsVersion ${JSON.stringify(state?.mapsVersion)}; this version reads ` +
        `${MAPS_VERSION}. Resume with the version that wrote it, or train again.`,
    );
  }
  const weights = await readWeights(join(found, 'model.safetensors'));
  const shapes = model.stateShapes();
  for (const name of shapes.keys()) {
    if (!weights.has(name)) {
      throw new UserError(
        `'${join(found, 'model.safetensors')}' lacks '${name}'; the checkpoint belongs to ` +
          `another network. Resume with the experiment's own network.`,
      );
    }
  }
  model.writeState(weights);
  const optimizerPath = join(found, 'optimizer.safetensors');
  const tensors = await readWeights(optimizerPath);
  model.writeOptimizerState({
    steps: state.steps,
    microSteps: state.microSteps ?? state.steps,
    tensors,
  });
  return state;
}
