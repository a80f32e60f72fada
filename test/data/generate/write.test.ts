import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  participantRows,
  prepareOutputFolder,
  storedDatatype,
} from '../../../src/data/generate/write.js';
import { createSubjects } from '../../../src/data/generate/subjects.js';
import { volumeOf } from '../transforms/helpers.js';

describe('dataset writing', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'generate-write-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('creates a new output folder', async () => {
    await prepareOutputFolder(join(root, 'a', 'b'), false);
    assert.ok(existsSync(join(root, 'a', 'b')));
  });

  it('accepts an empty folder', async () => {
    await prepareOutputFolder(root, false);
    assert.deepEqual(readdirSync(root), []);
  });

  it('rejects a non-empty folder without --force', async () => {
    writeFileSync(join(root, 'notes.txt'), 'keep me');
    await assert.rejects(prepareOutputFolder(root, false), /is not empty.*--force/);
  });

  it('keeps a foreign folder even with --force', async () => {
    writeFileSync(join(root, 'notes.txt'), 'keep me');
    await assert.rejects(prepareOutputFolder(root, true), /has no generation\.json/);
    assert.deepEqual(readdirSync(root), ['notes.txt']);
  });

  it('replaces a generated dataset with --force', async () => {
    writeFileSync(join(root, 'generation.json'), '{}');
    mkdirSync(join(root, 'sub-001'));
    await prepareOutputFolder(root, true);
    assert.deepEqual(readdirSync(root), []);
  });

  it('rejects a file as output folder', async () => {
    const file = join(root, 'file');
    writeFileSync(file, '');
    await assert.rejects(prepareOutputFolder(file, false), /is a file/);
  });

  it('stores integer inputs as int16', () => {
    assert.equal(storedDatatype(volumeOf([2, 2, 2], (i) => i * 100)), 'int16');
    assert.equal(storedDatatype(volumeOf([2, 2, 2], (i) => i * 0.5)), 'float32');
    assert.equal(storedDatatype(volumeOf([2, 2, 2], (i) => i * 40000)), 'float32');
  });

  it('adds a subtype column when subjects have one', () => {
    const subjects = createSubjects(['CN', 'AD'], 1);
    assert.deepEqual(participantRows(subjects).columns, [
      'participant_id',
      'session_id',
      'diagnosis',
      'age',
      'sex',
    ]);
    const typed = subjects.map((subject, index) => ({ ...subject, subtype: index }));
    const { columns, rows } = participantRows(typed);
    assert.equal(columns.at(-1), 'subtype');
    assert.deepEqual(
      rows.map((row) => [row.participant_id, row.diagnosis, row.subtype]),
      [
        ['sub-001', 'CN', '0'],
        ['sub-002', 'AD', '1'],
      ],
    );
  });
});
