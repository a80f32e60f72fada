// Train/validation/test splits and k-fold cross-validation at participant level: all the
// sessions of a participant land in the same set, so nothing leaks between sets. Splits are
// stratified by a label column and reproducible from a seed.

import { UserError } from '../errors.js';
import { Xoshiro128 } from '../graph/init.js';
import { checkParticipants, type Row, type Table } from './participants.js';

export interface SplitOptions {
  /** Column whose classes keep their proportions in every set; none when undefined. */
  stratify?: string;
  seed?: number;
}

interface Participant {
  id: string;
  rows: Row[];
  /** Stratum: the label of the participant's first session. */
  stratum: string;
}

function participants(table: Table, stratify: string | undefined): Participant[] {
  checkParticipants(table, stratify);
  const byId = new Map<string, Participant>();
  for (const row of table.rows) {
    const id = row.participant_id!;
    const entry = byId.get(id) ?? { id, rows: [], stratum: stratify ? row[stratify]! : '' };
    entry.rows.push(row);
    byId.set(id, entry);
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function shuffle<T>(items: T[], random: Xoshiro128): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.nextUint32() % (i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Participants grouped by stratum, each group shuffled, strata in sorted order. */
function strata(people: Participant[], random: Xoshiro128): Participant[][] {
  const groups = new Map<string, Participant[]>();
  for (const person of people)
    groups.set(person.stratum, [...(groups.get(person.stratum) ?? []), person]);
  return [...groups.keys()].sort().map((key) => shuffle(groups.get(key)!, random));
}

/**
 * Deals participants to `folds` folds stratum by stratum, continuing the round-robin across
 * strata so fold sizes differ by at most one participant.
 */
function deal(people: Participant[], folds: number, random: Xoshiro128): Participant[][] {
  const result = Array.from({ length: folds }, () => [] as Participant[]);
  let next = 0;
  for (const group of strata(people, random)) {
    for (const person of group) {
      result[next]!.push(person);
      next = (next + 1) % folds;
    }
  }
  return result;
}

const rowsOf = (people: Participant[]) => people.flatMap((person) => person.rows);

export interface Split {
  train: Row[];
  validation: Row[];
}

/**
 * K-fold cross-validation: fold k validates on the k-th group of participants and trains on
 * the others.
 */
export function makeKFold(table: Table, folds: number, options: SplitOptions = {}): Split[] {
  const people = participants(table, options.stratify);
  if (!Number.isInteger(folds) || folds < 2 || folds > people.length) {
    throw new UserError(
      `k-fold needs an integer number of folds between 2 and the number of participants ` +
        `(${people.length}), got ${folds}.`,
    );
  }
  const groups = deal(people, folds, new Xoshiro128(options.seed ?? 0, 'kfold'));
  return groups.map((validation, k) => ({
    train: rowsOf(groups.filter((_, other) => other !== k).flat()),
    validation: rowsOf(validation),
  }));
}

/**
 * Holds out `fraction` of the participants of each stratum (at least one when the stratum
 * has two or more), returning the held-out rows and the rest.
 */
export function makeSplit(
  table: Table,
  fraction: number,
  options: SplitOptions = {},
): { rest: Row[]; heldOut: Row[] } {
  if (!(fraction > 0 && fraction < 1)) {
    throw new UserError(
      `The held-out fraction must be between 0 and 1 (exclusive), got ${fraction}.`,
    );
  }
  const people = participants(table, options.stratify);
  const random = new Xoshiro128(options.seed ?? 0, 'split');
  const rest: Participant[] = [];
  const heldOut: Participant[] = [];
  for (const group of strata(people, random)) {
    const count = group.length < 2 ? 0 : Math.max(1, Math.round(group.length * fraction));
    heldOut.push(...group.slice(0, count));
    rest.push(...group.slice(count));
  }
  if (heldOut.length === 0 || rest.length === 0) {
    throw new UserError(
      `Cannot hold out ${fraction} of ${people.length} participants: one of the sets would be ` +
        'empty. Use more participants or another fraction.',
    );
  }
  return { rest: rowsOf(rest), heldOut: rowsOf(heldOut) };
}
