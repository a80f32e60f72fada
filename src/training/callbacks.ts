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

/** Prints one line per epoch: losses, validation metrics, throughput. */
export class ProgressCallback implements Callback {
  private epochs = 0;

  constructor(private readonly write: (line: string) => void = writeLine) {}

  onTrainBegin(info: { epochs: number }): void {
    this.epochs = info.epochs;
  }

  onEpochEnd(record: EpochRecord): void {
    const format = (values: Record<string, number>, prefix: string) =>
      Object.entries(values).map(([name, value]) => `${prefix}${name} ${value.toPrecision(4)}`);
    const parts = [
      `epoch ${record.epoch + 1}/${this.epochs}`,
      ...format(record.train, ''),
      ...format(record.validation, 'val '),
      `${record.samplesPerSecond.toFixed(1)} samples/s`,
      `${record.seconds.toFixed(1)} s`,
    ];
    this.write(parts.join('  '));
  }
}
