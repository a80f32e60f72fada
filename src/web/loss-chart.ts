// The live loss curve of training in the page, drawn with uPlot: training and validation loss
// per epoch, redrawn after each epoch.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import type { TrainingProgress } from './protocol.js';

export class LossChart {
  private readonly plot: uPlot;
  private readonly epochs: number[] = [];
  private readonly train: number[] = [];
  private readonly validation: (number | null)[] = [];

  constructor(container: HTMLElement) {
    this.plot = new uPlot(
      {
        width: Math.max(240, container.clientWidth || 320),
        height: 180,
        scales: { x: { time: false } },
        axes: [{ label: 'epoch' }, { label: 'loss' }],
        series: [
          { label: 'epoch' },
          { label: 'training', stroke: '#4e79a7', width: 2 },
          { label: 'validation', stroke: '#e15759', width: 2, dash: [6, 4] },
        ],
      },
      [[], [], []],
      container,
    );
  }

  /** Removes every point, before a new training run. */
  clear(): void {
    this.epochs.length = 0;
    this.train.length = 0;
    this.validation.length = 0;
    this.plot.setData([[], [], []]);
  }

  add(progress: TrainingProgress): void {
    this.epochs.push(progress.epoch);
    this.train.push(progress.loss);
    this.validation.push(progress.validationLoss ?? null);
    this.plot.setData([this.epochs, this.train, this.validation]);
  }
}
