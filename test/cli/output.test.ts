import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  inspectOutputFolder,
  prepareOutputFolder,
  removeExperiment,
  resumeCommand,
  savedCheckpoint,
  type OutputFolderOptions,
} from '../../src/cli/output.js';
import { UserError } from '../../src/errors.js';

/** Creates the files `paths` (relative to `root`), with their folders. */
function writeFiles(root: string, paths: readonly string[]): void {
  for (const path of paths) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), '{}\n');
  }
}

const UNFINISHED = ['experiment.json', 'train-config.json', 'split-0/training.tsv'];
const FINISHED = [...UNFINISHED, 'report.html'];

describe('cli output folder', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cli-output-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const accepted: [string, string[], OutputFolderOptions, string][] = [
    ['a new folder', [], {}, 'empty'],
    ['an empty folder', ['.'], {}, 'empty'],
    ['a folder of other files with force', ['notes.txt'], { force: true }, 'other'],
    ['an unfinished experiment', UNFINISHED, { allowExperiment: true }, 'unfinished-experiment'],
    ['a finished experiment', FINISHED, { allowExperiment: true }, 'finished-experiment'],
    ['an experiment with force', FINISHED, { force: true }, 'finished-experiment'],
  ];
  for (const [name, files, options, contents] of accepted) {
    it(`accepts ${name}`, async () => {
      const folder = join(root, 'out');
      if (files.includes('.')) mkdirSync(folder);
      writeFiles(
        folder,
        files.filter((file) => file !== '.'),
      );
      assert.equal(await prepareOutputFolder(folder, options), contents);
      assert.ok(existsSync(folder));
      assert.deepEqual(
        readdirSync(folder).filter((entry) => entry.startsWith('.write')),
        [],
      );
    });
  }

  const dataset = (r: string) => [{ name: 'dataset folder', path: join(r, 'data') }];
  const rejected: [string, (root: string) => [string, OutputFolderOptions], RegExp][] = [
    [
      'a folder of other files',
      (r) => (writeFiles(r, ['out/notes.txt']), [join(r, 'out'), {}]),
      /out is not empty and contains no experiment .* pass --force/,
    ],
    [
      'an experiment without allowExperiment',
      (r) => (writeFiles(join(r, 'out'), UNFINISHED), [join(r, 'out'), {}]),
      /already contains an experiment/,
    ],
    [
      'a path that is a file',
      (r) => (writeFiles(r, ['file.txt']), [join(r, 'file.txt'), { force: true }]),
      /output path .*file\.txt is a file, not a folder/,
    ],
    [
      'a path below a file',
      (r) => (writeFiles(r, ['file.txt']), [join(r, 'file.txt', 'out'), { force: true }]),
      /file\.txt, on the path .*file\.txt\/out, is a file, not a folder/,
    ],
    [
      'the dataset folder',
      (r) => (
        writeFiles(r, ['data/participants.tsv']),
        [join(r, 'data'), { force: true, inputs: dataset(r) }]
      ),
      /is or contains the dataset folder/,
    ],
    [
      'a parent of the dataset folder',
      (r) => (writeFiles(r, ['data/participants.tsv']), [r, { force: true, inputs: dataset(r) }]),
      /is or contains the dataset folder/,
    ],
  ];
  for (const [name, make, message] of rejected) {
    it(`rejects ${name}`, async () => {
      const [folder, options] = make(root);
      await assert.rejects(
        prepareOutputFolder(folder, options),
        (error: Error) => error instanceof UserError && message.test(error.message),
      );
    });
  }

  it('accepts a sibling of the dataset folder', async () => {
    writeFiles(root, ['data/participants.tsv']);
    const inputs = [{ name: 'dataset folder', path: join(root, 'data') }];
    assert.equal(await prepareOutputFolder(join(root, 'data-maps'), { inputs }), 'empty');
  });

  it('removes only the experiment files', async () => {
    writeFiles(root, [...FINISHED, 'networks/cnn.net', 'split-1/x.tsv', 'notes.txt', 'splits.tsv']);
    assert.equal(await inspectOutputFolder(root), 'finished-experiment');
    await removeExperiment(root);
    assert.deepEqual(readdirSync(root).sort(), ['notes.txt', 'splits.tsv']);
  });

  it('reads the epoch of the saved checkpoint', async () => {
    assert.equal(await savedCheckpoint(root), undefined);
    mkdirSync(join(root, 'split-0', 'checkpoints', 'last'), { recursive: true });
    const state = join(root, 'split-0', 'checkpoints', 'last', 'trainer.json');
    writeFileSync(state, JSON.stringify({ epoch: 3 }));
    assert.deepEqual(await savedCheckpoint(root), { epoch: 3 });
  });

  const commands: [string[], string][] = [
    [['train', 'a.json', '--output', 'out'], 'clinicadl-webgpu train a.json --output out --resume'],
    [
      ['train', 'a.json', '--force', '--output', 'my out'],
      "clinicadl-webgpu train a.json --output 'my out' --resume",
    ],
    [
      ['train', 'a.json', '--set', 'data.classes=["CN","AD"]', '--resume'],
      `clinicadl-webgpu train a.json --set 'data.classes=["CN","AD"]' --resume`,
    ],
    [['train', "it's.json"], `clinicadl-webgpu train 'it'\\''s.json' --resume`],
  ];
  for (const [args, expected] of commands) {
    it(`writes the resume command of ${args.slice(1).join(' ')}`, () => {
      assert.equal(resumeCommand(args), expected);
    });
  }
});
