// A dataset: the rows of a participants TSV, each with the paths of its image files and its
// label values, found and checked when the dataset opens. Samples (whole images, patches or
// slices) and their transforms are the loader's work (loader.ts).

import { stat, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';

import { UserError } from '../errors.js';
import { closestName } from '../graph/suggest.js';
import {
  parseDatasetConfig,
  type DatasetConfig,
  type DatasetConfigInput,
  type ImageSource,
  type LabelConfig,
} from './dataset-config.js';
import {
  checkParticipants,
  parseTsv,
  requireColumns,
  type Row,
  type Table,
} from './participants.js';

/** One row of the table: an image of one participant at one session. */
export interface ImageRecord {
  participant_id: string;
  session_id: string;
  /** Absolute path of each image field: 'image', then the masks by name. */
  paths: Record<string, string>;
  /** Label values by field: a class index or a float. */
  labels: Record<string, number>;
  /** The row as read, for metadata columns such as age or sex. */
  row: Row;
  /** Line of the row in the TSV, for messages. */
  line: number;
}

/** Files that failed the existence check are listed up to this many in one error. */
const MAX_LISTED = 5;

export class Dataset {
  private constructor(
    readonly config: DatasetConfig,
    /** The participants table as read, for splits (makeKFold, makeSplit). */
    readonly table: Table,
    readonly records: readonly ImageRecord[],
    /** Class names by label field, in index order, for 'class' labels. */
    readonly classes: Readonly<Record<string, readonly string[]>>,
  ) {}

  /** Reads the table, finds every image file and parses the labels; throws on bad input. */
  static async open(input: DatasetConfig | DatasetConfigInput): Promise<Dataset> {
    const config = parseDatasetConfig(input);
    const tsvPath = resolve(config.tsv);
    const text = await readFile(tsvPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new UserError(
        `Dataset table ${tsvPath} cannot be read (${error.code ?? error.message}); ` +
          "check the 'tsv' path.",
      );
    });
    const table = parseTsv(text, tsvPath);
    checkTable(table, config);
    checkLabelKey(config);
    const classes = labelClasses(table, config.labels);
    const records = table.rows.map((row, index) =>
      toRecord(row, index + 2, config, classes, dirname(tsvPath)),
    );
    await checkFolders(records, config);
    await checkFiles(records);
    return new Dataset(config, table, records, classes);
  }

  get length(): number {
    return this.records.length;
  }

  /**
   * Returns a dataset of the rows whose (participant_id, session_id) are in `keys`, such as the
   * rows of a split. The class lists stay those of the whole table.
   */
  subset(keys: readonly Readonly<Record<string, string>>[]): Dataset {
    const byKey = new Map(this.records.map((record) => [recordKey(record), record]));
    const records = keys.map((key) => {
      const ids = { participant_id: key.participant_id ?? '', session_id: key.session_id ?? '' };
      const record = byKey.get(recordKey(ids));
      if (record === undefined) {
        throw new UserError(
          `${ids.participant_id} ${ids.session_id} is not in the dataset table ` +
            `${this.config.tsv}; ` +
            'the split files and the table must list the same images.',
        );
      }
      return record;
    });
    return new Dataset(this.config, this.table, records, this.classes);
  }
}

function recordKey(key: { participant_id: string; session_id: string }): string {
  return `${key.participant_id}\t${key.session_id}`;
}

function checkTable(table: Table, config: DatasetConfig): void {
  checkParticipants(table);
  const columns = Object.entries(config.labels).map(([field, label]) => label.column ?? field);
  for (const source of [config.image, ...Object.values(config.masks)]) {
    if (source.layout === 'column') columns.push(source.column);
  }
  requireColumns(table, columns);
}

function checkLabelKey(config: DatasetConfig): void {
  const key = config.labelKey;
  const fields = [...Object.keys(config.labels), ...Object.keys(config.masks)];
  const clash = fields.find((field, index) => field === 'image' || fields.indexOf(field) !== index);
  if (clash !== undefined) {
    throw new UserError(
      `DatasetConfig field '${clash}' is defined twice (as a label and a mask, or as the ` +
        "'image' field); give each label and mask its own name.",
    );
  }
  if (key === undefined || fields.includes(key)) return;
  const suggestion = closestName(key, fields);
  const known = fields.length > 0 ? fields.join(', ') : 'none, so add one to labels or masks';
  throw new UserError(
    `DatasetConfig.labelKey '${key}' is not a label or mask field` +
      (suggestion ? ` (did you mean '${suggestion}'?)` : '') +
      `; the fields are ${known}.`,
  );
}

/** Returns each class label's class names: the configured list, or the sorted distinct values. */
function labelClasses(table: Table, labels: Record<string, LabelConfig>): Record<string, string[]> {
  const classes: Record<string, string[]> = {};
  for (const [field, label] of Object.entries(labels)) {
    if (label.kind !== 'class') continue;
    const column = label.column ?? field;
    const values = table.rows.map((row) => row[column]!.trim()).filter((value) => value !== '');
    classes[field] = label.classes ?? [...new Set(values)].sort();
  }
  return classes;
}

function toRecord(
  row: Row,
  line: number,
  config: DatasetConfig,
  classes: Record<string, string[]>,
  tableFolder: string,
): ImageRecord {
  const where = `${config.tsv}, line ${line}`;
  const ids = { participant_id: row.participant_id!, session_id: row.session_id! };
  const paths: Record<string, string> = {
    image: imagePath(config.image, ids, row, tableFolder, where),
  };
  for (const [field, source] of Object.entries(config.masks)) {
    paths[field] = imagePath(source, ids, row, tableFolder, where);
  }
  const labels: Record<string, number> = {};
  for (const [field, label] of Object.entries(config.labels)) {
    labels[field] = parseLabel(row, field, label, classes[field], where);
  }
  return { ...ids, paths, labels, row, line };
}

function parseLabel(
  row: Row,
  field: string,
  label: LabelConfig,
  classes: string[] | undefined,
  where: string,
): number {
  const column = label.column ?? field;
  const value = row[column]!.trim();
  if (value === '') {
    throw new UserError(
      `${where}: empty value in label column '${column}'; fill it or remove the row.`,
    );
  }
  if (label.kind === 'float') {
    const number = Number(value);
    if (Number.isFinite(number)) return number;
    throw new UserError(
      `${where}: '${value}' in column '${column}' is not a number, but label '${field}' is a ` +
        "float (regression) label; fix the value or set kind: 'class'.",
    );
  }
  const index = classes!.indexOf(value);
  if (index >= 0) return index;
  throw new UserError(
    `${where}: class '${value}' in column '${column}' is not one of the configured classes ` +
      `(${classes!.join(', ')}). Fix the value, or add it to the classes of the configuration.`,
  );
}

function imagePath(
  source: ImageSource,
  ids: { participant_id: string; session_id: string },
  row: Row,
  tableFolder: string,
  where: string,
): string {
  const { participant_id: participant, session_id: session } = ids;
  switch (source.layout) {
    case 'bids': {
      const entities = source.entities === '' ? '' : `_${source.entities}`;
      const name = `${participant}_${session}${entities}_${source.suffix}${source.extension}`;
      return resolve(source.root, participant, session, source.datatype, name);
    }
    case 'caps': {
      const relative = source.pattern
        .replaceAll('{participant_id}', participant)
        .replaceAll('{session_id}', session);
      return resolve(source.root, 'subjects', participant, session, relative);
    }
    case 'column': {
      const path = row[source.column]!.trim();
      if (path === '') {
        throw new UserError(`${where}: empty path in column '${source.column}'.`);
      }
      return isAbsolute(path) ? path : resolve(source.root ?? tableFolder, path);
    }
  }
}

/** Checks that each participant of a BIDS or CAPS dataset has a folder, naming the first rows. */
async function checkFolders(records: readonly ImageRecord[], config: DatasetConfig): Promise<void> {
  const sources = [config.image, ...Object.values(config.masks)];
  for (const source of sources) {
    if (source.layout === 'column') continue;
    const folders = source.layout === 'bids' ? [source.root] : [source.root, 'subjects'];
    const unknown: string[] = [];
    for (const record of records) {
      const folder = join(...folders, record.participant_id);
      if (!(await isDirectory(folder)))
        unknown.push(`${record.participant_id} (line ${record.line})`);
    }
    if (unknown.length === 0) continue;
    throw new UserError(
      `${config.tsv}: ${unknown.length} participant(s) have no folder in ${join(...folders)}: ` +
        `${listed(unknown)}; remove them from the table or add their images.`,
    );
  }
}

async function checkFiles(records: readonly ImageRecord[]): Promise<void> {
  const checks = records.flatMap((record) =>
    Object.entries(record.paths).map(async ([field, path]) => {
      const info = await stat(path).catch(() => null);
      return info !== null && info.isFile() ? null : `line ${record.line} ${field}: ${path}`;
    }),
  );
  const missing = (await Promise.all(checks)).filter((entry) => entry !== null);
  if (missing.length === 0) return;
  throw new UserError(
    `${missing.length} image file(s) of the dataset are missing: ${listed(missing)}; check the ` +
      'image layout (root, suffix, extension or pattern) or the path column.',
  );
}

async function isDirectory(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => null);
  return info !== null && info.isDirectory();
}

function listed(items: readonly string[]): string {
  const shown = items.slice(0, MAX_LISTED).join('; ');
  return items.length > MAX_LISTED ? `${shown}; and ${items.length - MAX_LISTED} more` : shown;
}
