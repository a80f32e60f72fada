// The text form of a network summary: one line per layer with its ops, output shape,
// parameters and FLOPs, then the totals.

import type { GraphSummary } from '../graph/summary.js';

/** Formats `summary` as an aligned text table. */
export function formatSummary(summary: GraphSummary): string {
  const header = ['layer', 'ops', 'output shape', 'params', 'FLOPs'];
  const rows = summary.rows.map((row) => [
    row.scope || '(top)',
    row.ops.join(', '),
    `[${row.outputShape.join(', ')}]`,
    row.params.toLocaleString('en-US'),
    row.flops.toLocaleString('en-US'),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    line(header),
    ...rows.map(line),
    `parameters: ${summary.totalParams.toLocaleString('en-US')}, buffers: ` +
      `${summary.totalBuffers.toLocaleString('en-US')}, FLOPs per sample: ` +
      `${summary.flopsPerSample.toLocaleString('en-US')} (batch size ${summary.batchSize})`,
  ].join('\n');
}
