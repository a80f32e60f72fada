// The generic Trainer: epochs over a BatchSource, validation every N epochs with metrics,
// best-model selection, early stopping, checkpoints and resume, written to an experiment folder
// (experiment.json, split-<k>/training.tsv, best-<metric>/, checkpoints/last/, <set>/).
// It has no Node imports: the folder is a MapsStorage, on disk in Node (a path) or in memory
// in browsers (memoryStorage() from storage.ts, saved with toZip()).

import packageJson from '../../package.json' with { type: 'json' };
import type { BatchSource } from '../data/batch.js';
import { UserError } from '../errors.js';
import { createLogger } from '../log.js';
import type { CustomLoss } from '../losses/configs.js';
import { modelFromJSON } from '../models/index.js';
import type { CompileTarget, EvaluatedBatch, Model } from '../models/model.js';
import type { ClipOptions } from '../kernels/lower-gradients.js';
import { describeAdapter } from '../runtime/device.js';
import type { Gpu } from '../runtime/gpu.js';
import { LrSchedule, scheduleConfig } from '../optim/schedules.js';
import type { Callback, EpochRecord } from './callbacks.js';
import {
  loadCheckpoint,
  resolveCheckpoint,
  saveCheckpoint,
  type TrainerState,
} from './checkpoint.js';
import { MAPS_VERSION, Maps } from './maps.js';
import { collectResults, computeMetrics, metricMode } from './metrics.js';
import { historyTsv, predictionsTsv } from './results.js';
import { nodeStorage } from './storage-node.js';
import { joinPath, type MapsStorage } from './storage.js';
import { trainerConfig, type TrainerConfig } from './trainer-config.js';

const log = createLogger('trainer');

export interface TrainerOptions {
  /**
   * The experiment folder: a path (Node, written through nodeStorage) or a MapsStorage such as
   * memoryStorage() in browsers.
   */
  maps: string | MapsStorage;
  model: Model;
  gpu: Gpu;
  config?: Partial<TrainerConfig>;
  callbacks?: Callback[];
  /**
   * JSON of the data side (dataset, transforms, splits, loader settings), stored in
   * experiment.json so that the experiment can be rebuilt from it; default null.
   */
  data?: unknown;
}

export interface TrainOptions {
  split?: number;
  train: BatchSource;
  validation?: BatchSource;
  /** Continue from split-<k>/checkpoints/last. Default false. */
  resume?: boolean;
  /**
   * Stops training between two training steps once aborted, by rejecting with a
   * TrainingInterrupted. Checkpoint writes are never cut short, because the signal is read
   * only between steps.
   */
  signal?: AbortSignal;
}

/**
 * Training stopped by TrainOptions.signal; the last checkpoint is kept as it was. `epoch` is
 * the 0-based epoch that was running, or null when the stop came after the last epoch.
 */
export class TrainingInterrupted extends Error {
  constructor(readonly epoch: number | null) {
    super(
      epoch === null
        ? 'Training was interrupted after its last epoch.'
        : `Training was interrupted during epoch ${epoch + 1}.`,
    );
    this.name = 'TrainingInterrupted';
  }
}

/** Opens the experiment folder at a path on disk (Node), or wraps a given storage. */
function openMaps(maps: string | MapsStorage): Maps {
  if (typeof maps === 'string') return new Maps(nodeStorage(maps), maps);
  return new Maps(maps, 'the experiment folder');
}

/** Versions recorded in experiment.json: the package, and Node or the browser's user agent. */
function runtimeVersions(): Record<string, string> {
  const versions: Record<string, string> = { clinicadlWebgpu: packageJson.version };
  if (typeof process !== 'undefined' && process.versions?.node) {
    versions.node = process.versions.node;
  } else if (typeof navigator !== 'undefined') {
    versions.userAgent = navigator.userAgent;
  }
  return versions;
}

export class Trainer {
  readonly maps: Maps;
  readonly model: Model;
  readonly config: TrainerConfig;
  private readonly gpu: Gpu;
  private readonly callbacks: Callback[];
  private schedule?: LrSchedule;
  /** The data configuration recorded in experiment.json. */
  readonly data: unknown;

  constructor(options: TrainerOptions) {
    this.maps = openMaps(options.maps);
    this.model = options.model;
    this.gpu = options.gpu;
    this.config = trainerConfig(options.config ?? {});
    this.callbacks = options.callbacks ?? [];
    this.data = options.data ?? null;
    const lossNames = Object.keys(this.model.losses());
    const early = this.config.earlyStopping?.metric;
    for (const name of [
      ...this.config.metrics,
      ...this.config.selection,
      ...(early ? [early] : []),
    ]) {
      metricMode(name, lossNames);
    }
    for (const name of [...this.config.selection, ...(early ? [early] : [])]) {
      if (!this.config.metrics.includes(name)) {
        throw new UserError(
          `'${name}' is used for selection or early stopping but is not in metrics ` +
            `[${this.config.metrics.join(', ')}]; add it to metrics.`,
        );
      }
    }
  }

  /** Rebuilds a Trainer from an experiment folder's experiment.json (a path or a storage). */
  static async fromMaps(
    maps: string | MapsStorage,
    gpu: Gpu,
    options: { customLosses?: CustomLoss[]; callbacks?: Callback[] } = {},
  ): Promise<Trainer> {
    const experiment = await openMaps(maps).readExperiment();
    const model = modelFromJSON(experiment.model, options.customLosses);
    const config = experiment.trainer as Partial<TrainerConfig>;
    const { callbacks } = options;
    return new Trainer({ maps, model, gpu, config, callbacks, data: experiment.data });
  }

  /**
   * Writes experiment.json and the network: networks/<name>.net with every file it imports
   * under the same relative names, or networks/<name>.json for a network config.
   */
  private async writeExperiment(): Promise<void> {
    const source = this.model.networkSource();
    const networkName = String(
      (this.model.toJSON().network as { name?: string })?.name ?? 'network',
    );
    const networkFile = joinPath('networks', source ? `${networkName}.net` : `${networkName}.json`);
    for (const [path, text] of Object.entries(this.model.networkImports())) {
      await this.maps.writeText(joinPath('networks', path), text);
    }
    await this.maps.writeText(
      networkFile,
      source ?? `${JSON.stringify(this.model.toJSON().network, null, 2)}\n`,
    );
    await this.maps.writeJson(this.maps.experimentPath, {
      mapsVersion: MAPS_VERSION,
      versions: runtimeVersions(),
      adapter: describeAdapter(this.gpu.adapterInfo),
      seed: this.config.seed,
      model: this.model.toJSON(),
      network: networkFile,
      trainer: this.config,
      data: this.data,
    });
  }

  /** Trains one split and returns the per-epoch history. */
  async train(options: TrainOptions): Promise<EpochRecord[]> {
    const split = options.split ?? 0;
    const epochs = this.config.epochs;
    const state = await this.prepare(options, split);

    const startEpoch = state.epoch + 1;
    for (const callback of this.callbacks) {
      await callback.onTrainBegin?.({ split, startEpoch, epochs });
    }
    for (let epoch = startEpoch; epoch < epochs; epoch++) {
      if (options.signal?.aborted) throw new TrainingInterrupted(epoch);
      for (const callback of this.callbacks) await callback.onEpochBegin?.(epoch);
      const record = await this.runEpoch(epoch, options);
      const stop = await this.finishEpoch(split, record, state);
      for (const callback of this.callbacks) await callback.onEpochEnd?.(record);
      if (stop) {
        log.info(`Early stopping after epoch ${epoch + 1}.`);
        break;
      }
    }
    for (const callback of this.callbacks) await callback.onTrainEnd?.(state.history);
    return state.history;
  }

  /**
   * Returns the model's compile target: the same in training and evaluation, so it compiles once.
   */
  private compileTarget(): CompileTarget {
    const { batchSize, seed, accumulationSteps, clipGradNorm, clipGradValue } = this.config;
    const checkpoint = this.config.gradientCheckpointing;
    const clip: ClipOptions = {};
    if (clipGradNorm !== null) clip.maxNorm = clipGradNorm;
    if (clipGradValue !== null) clip.clipValue = clipGradValue;
    return { gpu: this.gpu, batchSize, seed, accumulationSteps, clip, checkpoint };
  }

  /** Compiles the model's GPU pipelines, telling the callbacks when it starts and ends. */
  private async compileModel(): Promise<void> {
    for (const callback of this.callbacks) await callback.onCompileBegin?.();
    const start = performance.now();
    await this.model.compile(this.compileTarget());
    const seconds = (performance.now() - start) / 1000;
    for (const callback of this.callbacks) await callback.onCompileEnd?.(seconds);
  }

  /** Compiles the model and writes experiment.json, or restores the checkpoint on resume. */
  private async prepare(options: TrainOptions, split: number): Promise<TrainerState> {
    const { batchSize, seed } = this.config;
    if (options.train.batchSize > batchSize) {
      throw new UserError(
        `The training source yields batches of ${options.train.batchSize}, more than the ` +
          `trainer's batchSize ${batchSize}. Build the loader with batchSize ${batchSize}.`,
      );
    }
    await this.compileModel();
    // The schedule's base rate is 1, so its learning rate is the factor applied to every group.
    const schedule = this.config.schedule;
    this.schedule = schedule ? new LrSchedule(scheduleConfig(schedule), 1) : undefined;

    let state: TrainerState = {
      mapsVersion: MAPS_VERSION,
      epoch: -1,
      steps: 0,
      history: [],
      best: {},
      earlyStopping: { best: null, badValidations: 0 },
      schedule: null,
      rng: { seed, nextEpoch: 0 },
    };
    if (options.resume) {
      await this.maps.readExperiment();
      state = await loadCheckpoint(this.maps, this.maps.checkpoint(split), this.model);
      if (this.schedule && state.schedule) this.schedule.restore(state.schedule);
    } else {
      await this.writeExperiment();
    }
    return state;
  }

  /**
   * Steps the schedule, writes training.tsv, best models and the checkpoint after an epoch.
   * Returns true when early stopping ends the run.
   */
  private async finishEpoch(split: number, record: EpochRecord, state: TrainerState) {
    state.history.push(record);
    state.epoch = record.epoch;
    state.steps = this.model.steps;
    state.rng.nextEpoch = record.epoch + 1;
    if (this.schedule) {
      const metric = record.validation[this.config.scheduleMetric] ?? record.train.loss;
      this.schedule.step(metric);
      state.schedule = this.schedule.state();
    }

    await this.writeHistory(split, state.history);
    await this.selectBest(split, record, state);
    const stop = this.checkEarlyStopping(record, state);
    const last = stop || record.epoch === this.config.epochs - 1;
    if (last || (record.epoch + 1) % this.config.checkpointInterval === 0) {
      await saveCheckpoint(this.maps, this.maps.checkpoint(split), this.model, state);
    }
    return stop;
  }

  private async runEpoch(epoch: number, options: TrainOptions): Promise<EpochRecord> {
    const start = performance.now();
    const lrFactor = this.schedule?.lr ?? 1;
    const pending: Promise<Record<string, number>>[] = [];
    const sizes: number[] = [];
    // The first failed step. A step that fails while the loop waits for the next batch is
    // recorded here, so its rejection is handled and raised before more steps start.
    let failure: { error: unknown } | undefined;
    for await (const batch of options.train.batches(epoch, true)) {
      if (options.signal?.aborted || failure) {
        await Promise.allSettled(pending);
        if (failure) throw failure.error;
        throw new TrainingInterrupted(epoch);
      }
      // Steps are submitted without waiting, so the GPU queue stays full while the CPU
      // prepares the next batch; at most 4 are in flight.
      const step = this.model.trainingStep(batch, lrFactor);
      step.catch((error: unknown) => {
        failure ??= { error };
      });
      pending.push(step);
      sizes.push(batch.size);
      if (pending.length - 4 >= 0) await pending[pending.length - 4];
    }
    const losses = await Promise.all(pending);
    const samples = sizes.reduce((a, b) => a + b, 0);
    if (samples === 0)
      throw new UserError(`The training source yielded no batch in epoch ${epoch}.`);
    const train: Record<string, number> = {};
    losses.forEach((values, index) => {
      for (const [name, value] of Object.entries(values)) {
        train[name] = (train[name] ?? 0) + (value * sizes[index]!) / samples;
      }
    });
    const trainSeconds = (performance.now() - start) / 1000;
    const validate = options.validation && (epoch + 1) % this.config.evaluationInterval === 0;
    const validation = validate ? (await this.evaluateSource(options.validation!)).metrics : {};
    return {
      epoch,
      train,
      validation,
      lrFactor,
      seconds: (performance.now() - start) / 1000,
      samplesPerSecond: samples / trainSeconds,
    };
  }

  private async evaluateSource(source: BatchSource) {
    const evaluated: EvaluatedBatch[] = [];
    for await (const batch of source.batches(0, false)) {
      evaluated.push(await this.model.evaluationStep(batch));
    }
    const { labelKey, imageKey } = this.model.toJSON() as { labelKey?: string; imageKey?: string };
    const results = collectResults(evaluated, labelKey, imageKey);
    return { evaluated, metrics: computeMetrics(this.config.metrics, results) };
  }

  private improved(metric: string, value: number, best: number | null | undefined, delta = 0) {
    if (best === null || best === undefined) return Number.isFinite(value);
    const mode = metricMode(metric, Object.keys(this.model.losses()));
    return mode === 'min' ? value < best - delta : value > best + delta;
  }

  private async selectBest(split: number, record: EpochRecord, state: TrainerState) {
    for (const metric of this.config.selection) {
      const value = record.validation[metric];
      if (value === undefined || !this.improved(metric, value, state.best[metric])) continue;
      state.best[metric] = value;
      const folder = this.maps.best(split, metric);
      await this.maps.writeWeights(
        joinPath(folder, 'model.safetensors'),
        await this.model.readState(),
        this.model.stateShapes(),
      );
      await this.maps.writeJson(joinPath(folder, 'metrics.json'), {
        epoch: record.epoch,
        ...record.validation,
      });
    }
  }

  private checkEarlyStopping(record: EpochRecord, state: TrainerState): boolean {
    const settings = this.config.earlyStopping;
    const value = settings ? record.validation[settings.metric] : undefined;
    if (!settings || value === undefined) return false;
    const tracker = state.earlyStopping;
    if (this.improved(settings.metric, value, tracker.best, settings.minDelta)) {
      tracker.best = value;
      tracker.badValidations = 0;
      return false;
    }
    tracker.badValidations += 1;
    return tracker.badValidations >= settings.patience;
  }

  private async writeHistory(split: number, history: readonly EpochRecord[]) {
    const text = historyTsv(history, this.config.metrics);
    await this.maps.writeText(joinPath(this.maps.split(split), 'training.tsv'), text);
  }

  /**
   * Evaluates `source` with the weights of `checkpoint` ('best-<metric>' or 'last') and writes
   * split-<k>/<set>/predictions.tsv and metrics.json. Returns the metrics.
   */
  async evaluate(
    set: string,
    source: BatchSource,
    options: { split?: number; checkpoint?: string } = {},
  ): Promise<Record<string, number>> {
    const split = options.split ?? 0;
    const checkpoint = options.checkpoint ?? `best-${this.config.selection[0] ?? 'loss'}`;
    const folder =
      checkpoint === 'last'
        ? await resolveCheckpoint(this.maps, this.maps.checkpoint(split))
        : joinPath(this.maps.split(split), checkpoint);
    if (folder === undefined) {
      throw new UserError(
        `No checkpoint in ${this.maps.describe(this.maps.checkpoint(split))}; train first.`,
      );
    }
    await this.model.compile(this.compileTarget());
    this.model.writeState(await this.maps.readWeights(joinPath(folder, 'model.safetensors')));
    const { evaluated, metrics } = await this.evaluateSource(source);
    const out = joinPath(this.maps.split(split), set);
    await this.maps.writeText(joinPath(out, 'predictions.tsv'), predictionsTsv(evaluated));
    await this.maps.writeJson(joinPath(out, 'metrics.json'), { checkpoint, ...metrics });
    return metrics;
  }
}
