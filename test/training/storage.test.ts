import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipExperimentFiles } from '../../src/experiment/files.js';
import { resolveNetwork } from '../../src/models/index.js';
import type { Model } from '../../src/models/model.js';
import {
  loadCheckpoint,
  resolveCheckpoint,
  saveCheckpoint,
  type TrainerState,
} from '../../src/training/checkpoint.js';
import { Maps } from '../../src/training/maps.js';
import { nodeStorage } from '../../src/training/storage-node.js';
import { memoryStorage, type MapsStorage } from '../../src/training/storage.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('MapsStorage', () => {
  let folder: string;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'storage-'));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  const backends: [string, () => MapsStorage][] = [
    ['memoryStorage', () => memoryStorage()],
    ['nodeStorage', () => nodeStorage(join(folder, `root-${Math.random().toString(36)}`))],
  ];
  for (const [name, create] of backends) {
    it(`${name} reads what it wrote`, async () => {
      const storage = create();
      assert.deepEqual(await storage.list(), []);
      await storage.writeFile('split-0/best-loss/metrics.json', '{"loss": 1}');
      await storage.writeFile('./experiment.json', Uint8Array.of(123, 125));
      await storage.writeFile('split-0\\training.tsv', 'epoch\n');
      assert.equal(text(await storage.readFile('split-0/best-loss/metrics.json')), '{"loss": 1}');
      assert.equal(text(await storage.readFile('experiment.json')), '{}');
      assert.deepEqual(await storage.list(), [
        'experiment.json',
        'split-0/best-loss/metrics.json',
        'split-0/training.tsv',
      ]);
      assert.equal(await storage.exists('split-0'), true);
      assert.equal(await storage.exists('split-0/best-loss/metrics.json'), true);
      assert.equal(await storage.exists('split-0/best'), false);
      await storage.remove('split-0/best-loss');
      await storage.remove('not-there');
      assert.deepEqual(await storage.list(), ['experiment.json', 'split-0/training.tsv']);
      await storage.writeFile('experiment.json', 'replaced');
      assert.equal(text(await storage.readFile('experiment.json')), 'replaced');
    });

    it(`${name} renames a folder`, async () => {
      const storage = create();
      await storage.writeFile('last.next/a.json', 'a');
      await storage.writeFile('last.next/b/c.json', 'c');
      await storage.writeFile('kept.json', 'k');
      await storage.rename!('last.next', 'last');
      assert.deepEqual(await storage.list(), ['kept.json', 'last/a.json', 'last/b/c.json']);
      assert.equal(text(await storage.readFile('last/b/c.json')), 'c');
      await assert.rejects(storage.rename!('kept.json', 'last'), /already exists/);
    });

    const badPaths: [string, RegExp][] = [
      ['../outside.json', /must not contain '\.\.'/],
      ['/etc/passwd', /must be relative/],
      ['C:/x.json', /must be relative/],
      ['./', /is empty/],
    ];
    for (const [path, message] of badPaths) {
      it(`${name} rejects path '${path}'`, async () => {
        await assert.rejects(create().writeFile(path, 'x'), message);
      });
    }

    it(`${name} names a missing file`, async () => {
      await assert.rejects(create().readFile('split-0/x.json'), /split-0\/x\.json/);
    });
  }

  it('memoryStorage copies written bytes', async () => {
    const storage = memoryStorage({ 'a.txt': 'first' });
    const bytes = Uint8Array.of(1, 2, 3);
    await storage.writeFile('b.bin', bytes);
    bytes[0] = 9;
    assert.deepEqual([...storage.files.get('b.bin')!], [1, 2, 3]);
    assert.equal(text(storage.files.get('a.txt')!), 'first');
  });

  it('memoryStorage zips for the experiment reader', async () => {
    const storage = memoryStorage();
    await storage.writeFile('experiment.json', '{"mapsVersion": 1}');
    await storage.writeFile('split-0/checkpoints/last/model.safetensors', Uint8Array.of(7, 8));
    const files = zipExperimentFiles(storage.toZip());
    assert.equal(await files.readText('experiment.json'), '{"mapsVersion": 1}');
    const weights = await files.readBytes('split-0/checkpoints/last/model.safetensors');
    assert.deepEqual([...weights], [7, 8]);
  });

  it('nodeStorage rejects a runtime without Node', () => {
    // Browsers have no process.getBuiltinModule; removing it simulates one.
    const original = process.getBuiltinModule;
    Object.defineProperty(process, 'getBuiltinModule', { value: undefined, configurable: true });
    try {
      assert.throws(
        () => nodeStorage(join(folder, 'browser')),
        /An experiment folder given by path needs Node's file system .* pass memoryStorage\(\)/,
      );
      assert.throws(
        () => resolveNetwork({ netFile: 'dsl/cnn.net' }),
        /Reading the \.net file 'dsl\/cnn\.net' needs Node's file system/,
      );
    } finally {
      Object.defineProperty(process, 'getBuiltinModule', { value: original, configurable: true });
    }
  });

  it('nodeStorage leaves no temporary files', async () => {
    const root = join(folder, 'atomic');
    const storage = nodeStorage(root);
    await storage.writeFile('split-0/training.tsv', 'epoch\n');
    await storage.writeFile('split-0/training.tsv', 'epoch\n0\n');
    assert.deepEqual(await readdir(join(root, 'split-0')), ['training.tsv']);
    assert.equal(await readFile(join(root, 'split-0', 'training.tsv'), 'utf8'), 'epoch\n0\n');
  });
});

/** Creates a stand-in model whose weights are one tensor filled with `value`. */
function fakeModel(value: number) {
  let written: Map<string, Float32Array> | undefined;
  const model = {
    readState: async () => new Map([['w', Float32Array.of(value, value)]]),
    stateShapes: () => new Map([['w', [2]]]),
    readOptimizerState: async () => ({
      steps: value,
      microSteps: value,
      tensors: new Map([['w.moment', Float32Array.of(value)]]),
    }),
    writeState: (state: Map<string, Float32Array>) => {
      written = state;
    },
    writeOptimizerState: () => {},
  };
  return { model: model as unknown as Model, written: () => written };
}

const state = (epoch: number): TrainerState => ({
  mapsVersion: 1,
  epoch,
  steps: epoch,
  history: [],
  best: {},
  earlyStopping: { best: null, badValidations: 0 },
  schedule: null,
  rng: { seed: 0, nextEpoch: epoch + 1 },
});

describe('checkpoints on a MapsStorage', () => {
  const folder = 'split-0/checkpoints/last';

  /** Returns the epoch and weight of the checkpoint a reader finds. */
  async function found(maps: Maps) {
    const { model, written } = fakeModel(0);
    const loaded = await loadCheckpoint(maps, folder, model);
    return [loaded.epoch, written()!.get('w')![0]];
  }

  it('replaces the checkpoint whole', async () => {
    const storage = memoryStorage();
    const maps = new Maps(storage, 'memory');
    await saveCheckpoint(maps, folder, fakeModel(1).model, state(1));
    await saveCheckpoint(maps, folder, fakeModel(2).model, state(2));
    assert.deepEqual(await storage.list(), [
      `${folder}/model.safetensors`,
      `${folder}/optimizer.safetensors`,
      `${folder}/trainer.json`,
    ]);
    assert.deepEqual(await found(maps), [2, 2]);
  });

  /**
   * Wraps `storage` so that its operation number `killAt` (writes, removes and renames, from 0)
   * fails as a kill would. `written` turns true once last.next/trainer.json is written.
   */
  function killing(storage: MapsStorage, killAt: number, withRename: boolean) {
    const progress = { count: 0, written: false };
    const step = () => {
      if (progress.count++ === killAt) throw new Error('killed');
    };
    const wrapped: MapsStorage = {
      list: () => storage.list(),
      exists: (path) => storage.exists(path),
      readFile: (path) => storage.readFile(path),
      async writeFile(path, data) {
        step();
        await storage.writeFile(path, data);
        if (path === `${folder}.next/trainer.json`) progress.written = true;
      },
      async remove(path) {
        step();
        await storage.remove(path);
      },
    };
    if (withRename) {
      wrapped.rename = async (from, to) => {
        step();
        await storage.rename!(from, to);
      };
    }
    return { wrapped, progress };
  }

  for (const withRename of [true, false]) {
    const protocol = withRename ? 'with rename' : 'by copy';
    it(`recovers from every kill point ${protocol}`, async () => {
      // A save without a kill counts the operations of one save.
      const counted = killing(memoryStorage(), -1, withRename);
      await saveCheckpoint(
        new Maps(counted.wrapped, 'memory'),
        folder,
        fakeModel(1).model,
        state(1),
      );
      const operations = counted.progress.count;
      assert.ok(operations >= 4, `${operations} operations`);
      for (let killAt = 0; killAt < operations; killAt++) {
        const storage = memoryStorage();
        const maps = new Maps(storage, 'memory');
        await saveCheckpoint(maps, folder, fakeModel(1).model, state(1));
        const { wrapped, progress } = killing(storage, killAt, withRename);
        const killed = new Maps(wrapped, 'memory');
        await assert.rejects(
          saveCheckpoint(killed, folder, fakeModel(2).model, state(2)),
          /killed/,
        );
        const epoch = progress.written ? 2 : 1;
        assert.deepEqual(await found(maps), [epoch, epoch], `killed at operation ${killAt}`);
        // The next save completes whatever the kill left, through the same protocol.
        const after = new Maps(killing(storage, -1, withRename).wrapped, 'memory');
        await saveCheckpoint(after, folder, fakeModel(3).model, state(3));
        assert.deepEqual(await found(maps), [3, 3], `saved after a kill at operation ${killAt}`);
        assert.deepEqual(await storage.list(), [
          `${folder}/model.safetensors`,
          `${folder}/optimizer.safetensors`,
          `${folder}/trainer.json`,
        ]);
      }
    });
  }

  it('reads the .old folder of earlier versions', async () => {
    const storage = memoryStorage();
    const maps = new Maps(storage, 'memory');
    await saveCheckpoint(maps, `${folder}.old`, fakeModel(4).model, state(4));
    assert.equal(await resolveCheckpoint(maps, folder), `${folder}.old`);
    assert.deepEqual(await found(maps), [4, 4]);
  });

  it('rejects a missing checkpoint', async () => {
    const maps = new Maps(memoryStorage(), 'memory');
    assert.equal(await resolveCheckpoint(maps, folder), undefined);
    await assert.rejects(
      loadCheckpoint(maps, folder, fakeModel(0).model),
      /No checkpoint in 'memory\/split-0\/checkpoints\/last'/,
    );
  });
});
