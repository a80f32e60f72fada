// The table that defines a dataset: one row per image with participant_id, session_id and
// label columns, read from a TSV file as BIDS and ClinicaDL lay it out.

import { tsvFormatRows, tsvParseRows } from 'd3-dsv';
import { UserError } from '../errors.js';
import { closestName } from '../graph/suggest.js';

export type Row = Record<string, string>;

export interface Table {
  columns: string[];
  rows: Row[];
  /** Names the table in errors: its path, or 'table'. */
  source: string;
}

/** Parses TSV text; every row must have every column, and no column may repeat. */
export function parseTsv(text: string, source = 'table'): Table {
  const lines = tsvParseRows(text.replace(/\r\n/g, '\n')).filter(
    (fields) => fields.length > 1 || fields[0] !== '',
  );
  const columns = lines[0] ?? [];
  if (columns.length === 0) throw new UserError(`${source}: the table is empty.`);
  const duplicate = columns.find((name, index) => columns.indexOf(name) !== index);
  if (duplicate !== undefined)
    throw new UserError(`${source}: column '${duplicate}' appears twice.`);
  const rows = lines.slice(1).map((fields, index) => {
    if (fields.length !== columns.length) {
      throw new UserError(
        `${source}, line ${index + 2}: ${fields.length} values for ${columns.length} columns ` +
          `(${columns.join(', ')}); separate values with tabs.`,
      );
    }
    return Object.fromEntries(columns.map((column, i) => [column, fields[i]!])) as Row;
  });
  return { columns, rows, source };
}

export function formatTsv(columns: readonly string[], rows: readonly Row[]): string {
  return `${tsvFormatRows([[...columns], ...rows.map((row) => columns.map((c) => row[c] ?? ''))])}\n`;
}

/** Throws when a required column is missing, suggesting the closest existing one. */
export function requireColumns(table: Table, required: readonly string[]): void {
  for (const column of required) {
    if (table.columns.includes(column)) continue;
    const suggestion = closestName(column, table.columns);
    throw new UserError(
      `${table.source}: missing column '${column}'` +
        (suggestion ? ` (did you mean '${suggestion}'?)` : '') +
        `; the columns are ${table.columns.join(', ')}.`,
    );
  }
}

/**
 * Checks a participants table: participant_id and session_id present and non-empty, the
 * (participant, session) pairs unique, and the label column present without empty values.
 */
export function checkParticipants(table: Table, labelColumn?: string): void {
  const required = ['participant_id', 'session_id', ...(labelColumn ? [labelColumn] : [])];
  requireColumns(table, required);
  const seen = new Map<string, number>();
  table.rows.forEach((row, index) => {
    const line = index + 2;
    for (const column of required) {
      if ((row[column] ?? '').trim() === '') {
        throw new UserError(`${table.source}, line ${line}: empty value in column '${column}'.`);
      }
    }
    const key = `${row.participant_id}\t${row.session_id}`;
    const previous = seen.get(key);
    if (previous !== undefined) {
      throw new UserError(
        `${table.source}, line ${line}: ${row.participant_id} ${row.session_id} already ` +
          `appears on line ${previous}; each participant and session may appear once.`,
      );
    }
    seen.set(key, line);
  });
}
