// The Model interface the Trainer relies on, as ClinicaDL's Model: a training step, an
// evaluation step that returns the outputs with the batch, a prediction step, named optimizers
// and losses, a summary and a reset. Models compile lazily for a device and a batch size.

import type { Batch } from '../data/batch.js';
import type { LossConfig } from '../losses/loss.js';
import type { CheckpointOption } from '../graph/checkpoint.js';
import type { ClipOptions } from '../kernels/lower-gradients.js';
import type { OptimizerConfig } from '../optim/optimizers.js';
import type { OptimizerState } from '../training/program.js';
import type { Gpu } from '../runtime/gpu.js';

/** A batch with the network's outputs and per-sample losses, padded rows removed. */
export interface EvaluatedBatch {
  batch: Batch;
  /** Network output of the batch's real rows, row-major. */
  output: Float32Array;
  /** Shape of `output`, batch axis first (the batch's size). */
  outputShape: number[];
  /** Loss of each real row, by loss name; empty for a prediction step. */
  losses: Record<string, Float32Array>;
}

export interface CompileTarget {
  gpu: Gpu;
  /** The static batch size: shorter batches are padded to it. */
  batchSize: number;
  /** Seed of the parameter initialisation. */
  seed: number;
  /** Micro-batches averaged per optimizer update. Default 1. */
  accumulationSteps?: number;
  /** Gradient clipping before each update. Default none. */
  clip?: ClipOptions;
  /**
   * Gradient checkpointing of the training program: 'auto' or a number of segments recomputes
   * activations in the backward pass instead of keeping them. Default 'none'.
   */
  checkpoint?: CheckpointOption;
}

export abstract class Model {
  abstract readonly name: string;

  /** Compiles the training and evaluation programs; a second call with the same target is free. */
  abstract compile(target: CompileTarget): Promise<void>;

  /**
   * Runs forward, loss, backward and the optimizer update on `batch`, with the learning rate
   * scaled by `lrFactor`. Resolves to the losses by name; the next step may be submitted first.
   */
  abstract trainingStep(batch: Batch, lrFactor?: number): Promise<Record<string, number>>;

  /** Runs the network and the per-sample losses on `batch`, without training. */
  abstract evaluationStep(batch: Batch): Promise<EvaluatedBatch>;

  /** Runs the network on `batch` (no label needed). */
  abstract predictionStep(batch: Batch): Promise<EvaluatedBatch>;

  /** The optimizers, by name. */
  abstract optimizers(): Record<string, OptimizerConfig>;

  /** The losses, by name; the Trainer also reports them as validation metrics. */
  abstract losses(): Record<string, LossConfig>;

  /** A text table of the network's layers, output shapes, parameters and FLOPs. */
  abstract summary(batchSize?: number): string;

  /** Re-initialises every parameter from `seed` and clears the optimizer state. */
  abstract reset(seed: number): Promise<void>;

  /** Parameters and buffers by PyTorch state_dict name. */
  abstract readState(): Promise<Map<string, Float32Array>>;

  /** The optimizers' moments, accumulators and step counts, for a checkpoint. */
  abstract readOptimizerState(): Promise<OptimizerState>;

  /** Restores what readOptimizerState returned, so training resumes exactly. */
  abstract writeOptimizerState(state: OptimizerState): void;

  abstract writeState(state: Map<string, Float32Array>): void;

  /** Shape of each parameter and buffer, by state_dict name. */
  abstract stateShapes(): Map<string, number[]>;

  /** Optimizer steps taken so far (Adam's bias correction depends on it). */
  abstract get steps(): number;
  abstract set steps(value: number);

  /** The model's configuration, from which modelFromJSON rebuilds it. */
  abstract toJSON(): { name: string; [key: string]: unknown };

  /** Returns the .net source to store with an experiment, if the network came from one. */
  networkSource(): string | undefined {
    return undefined;
  }

  /**
   * Returns the files the .net source imports, by path relative to its folder, so that an
   * experiment folder can store them beside it. Other networks return an empty record.
   */
  networkImports(): Record<string, string> {
    return {};
  }

  /** Releases GPU resources; the model compiles again on the next use. */
  abstract release(): void;
}
