// Trainer callbacks: hooks called at the start and end of training and of each epoch. The
// progress line is a callback, so library code itself only logs through src/log.ts.

import { createLogger } from '../log.js';

/** One finished epoch, as written to training.tsv. */
export interface EpochRecord {
  /** 0-based epoch index. */
  epoch: number;
  /** Mean training loss per sample, by loss name. */
  train: Record<string, number>;
  /** Validation metrics, empty on epochs without validation. */
  validation: Record<string, number>;
  /** Learning-rate factor of the schedule during the epoch. */
  lrFactor: number;
  /** Wall time of the epoch in seconds, validation included. */
  seconds: number;
  /** Training samples per second. */
  samplesPerSecond: number;
}

export interface Callback {
  onTrainBegin?(info: { split: number; startEpoch: number; epochs: number }): void | Promise<void>;
  /** Called before the model's GPU pipelines are compiled, which can take minutes. */
  onCompileBegin?(): void | Promise<void>;
  /** Called after the pipelines are compiled, with the time it took in seconds. */
  onCompileEnd?(seconds: number): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  /** Called after the epoch's files and checkpoint are written. */
  onEpochEnd?(record: EpochRecord): void | Promise<void>;
  onTrainEnd?(history: readonly EpochRecord[]): void | Promise<void>;
}

const log = createLogger('trainer');

/** Writes a progress line to stderr in Node, and to the logger's info level elsewhere. */
function writeLine(line: string): void {
  if (typeof process !== 'undefined' && process.stderr) process.stderr.write(`${line}\n`);
  else log.info(line);
}

/**
 * Prints a line when pipeline compilation starts and ends, a line when training resumes, and
 * one line per epoch: losses, validation metrics, throughput.
 */
export class ProgressCallback implements Callback {
  private epochs = 0;

  constructor(private readonly write: (line: string) => void = writeLine) {}

  onCompileBegin(): void {
    this.write('compiling GPU pipelines (minutes on a new input shape or a CPU adapter)');
  }

  onCompileEnd(seconds: number): void {
    this.write(`compiled GPU pipelines in ${seconds.toFixed(1)} s`);
  }

  onTrainBegin(info: { startEpoch: number; epochs: number }): void {
    this.epochs = info.epochs;
    if (info.startEpoch > 0) {
      this.write(`resuming after epoch ${info.startEpoch}/${info.epochs}`);
    }
  }

  onEpochEnd(record: EpochRecord): void {
    const format = (values: Record<string, number>, prefix: string) =>
      Object.entries(values).map(([name, value]) => `${prefix}${name} ${value.toPrecision(4)}`);
    const parts = [
      `epoch ${record.epoch + 1}/${this.epochs}`,
      ...format(record.train, ''),
      ...format(record.validation, 'val '),
      `${formatRate(record.samplesPerSecond)} samples/s`,
      `${record.seconds.toFixed(1)} s`,
    ];
    this.write(parts.join('  '));
  }
}

/** Formats a rate with 3 significant digits, so a slow rate does not print as 0.0. */
function formatRate(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toPrecision(3);
}
