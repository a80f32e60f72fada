// The tables of an experiment folder as TSV text: training.tsv (one row per epoch) and a set's
// predictions.tsv (one row per sample).

import type { EvaluatedBatch } from '../models/model.js';
import type { EpochRecord } from './callbacks.js';
import { tsvRow } from './maps.js';

/** Formats training.tsv: epoch, training losses, validation `metrics`, lr factor and timing. */
export function historyTsv(history: readonly EpochRecord[], metrics: readonly string[]): string {
  const trainNames = Object.keys(history[0]?.train ?? {});
  const header = ['epoch', ...trainNames.map((name) => `train_${name}`)];
  header.push(...metrics.map((name) => `validation_${name}`), 'lr_factor');
  header.push('seconds', 'samples_per_second');
  const rows = history.map((record) =>
    tsvRow([
      record.epoch,
      ...trainNames.map((name) => record.train[name] ?? ''),
      ...metrics.map((name) => record.validation[name] ?? ''),
      record.lrFactor,
      record.seconds.toFixed(3),
      record.samplesPerSecond.toFixed(2),
    ]),
  );
  return tsvRow(header) + rows.join('');
}

/** Formats one row per sample: ids, per-sample losses, and the outputs if at most 16. */
export function predictionsTsv(evaluated: readonly EvaluatedBatch[]): string {
  const first = evaluated[0];
  if (!first) return tsvRow(['participant_id', 'session_id']);
  const lossNames = Object.keys(first.losses);
  const perRow = first.output.length / first.batch.size;
  const outputs = perRow <= 16 ? Array.from({ length: perRow }, (_, i) => `output_${i}`) : [];
  const header = [
    'participant_id',
    'session_id',
    'index',
    ...lossNames.map((n) => `loss_${n}`),
    ...outputs,
  ];
  let text = tsvRow(header);
  for (const { batch, output, losses } of evaluated) {
    for (let row = 0; row < batch.size; row++) {
      const id = batch.ids[row]!;
      const values =
        outputs.length > 0 ? [...output.subarray(row * perRow, (row + 1) * perRow)] : [];
      text += tsvRow([
        id.participant_id,
        id.session_id,
        id.index ?? '',
        ...lossNames.map((name) => losses[name]![row]!),
        ...values,
      ]);
    }
  }
  return text;
}
