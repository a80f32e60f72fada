import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT } from '../../scripts/build.mjs';
import { resolveNetwork } from '../../src/models/index.js';

// A network whose block comes from lib/act.net, which imports lib/more.net in turn.
const MAIN = `import "lib/act.net"
network Tiny(inShape: ints = [1, 4, 4, 4]) {
  input image: inShape
  output y = Act(conv(image, 2, 3, padding: 1, name: "conv"))
}
`;
const ACT = `import "more.net"
block Act(x: tensor) { return Twice(x) }
`;
const MORE = `block Twice(x: tensor) { return relu(relu(x, name: "first"), name: "second") }
`;

describe('.net networks', () => {
  let folder: string;
  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'net-imports-'));
    await mkdir(join(folder, 'lib'));
    await writeFile(join(folder, 'main.net'), MAIN);
    await writeFile(join(folder, 'lib', 'act.net'), ACT);
    await writeFile(join(folder, 'lib', 'more.net'), MORE);
    const up = `${folder.split('/').at(-1)}-up.net`;
    await writeFile(join(folder, 'outside.net'), `import "../${up}"\n${MAIN}`);
    await writeFile(join(folder, '..', up), 'block Other(x: tensor) { return x }\n');
  });
  after(async () => {
    await rm(`${folder}-up.net`, { force: true });
    await rm(folder, { recursive: true, force: true });
  });

  it('lists the imports of a file', () => {
    const network = resolveNetwork({ netFile: join(folder, 'main.net') });
    assert.equal(network.source, MAIN);
    assert.deepEqual(network.imports(), { 'lib/act.net': ACT, 'lib/more.net': MORE });
    assert.deepEqual(network.toGraph(2).inputs[0]!.value.shape, [2, 1, 4, 4, 4]);
    const relativePath = `./${relative(process.cwd(), join(folder, 'main.net'))}`;
    assert.deepEqual(resolveNetwork({ netFile: relativePath }).imports(), network.imports());
  });

  it('lists the catalogue imports', async () => {
    const network = resolveNetwork({
      netFile: join(ROOT, 'dsl', 'autoencoder.net'),
      network: 'AutoEncoder',
      set: ['inShape=[1, 8, 8, 8]', 'latentSize=4', 'convArgs={channels: [4], norm: none}'],
    });
    const imports = network.imports();
    assert.deepEqual(Object.keys(imports).sort(), ['cnn.net', 'common.net']);
    assert.equal(imports['common.net'], await readFile(join(ROOT, 'dsl', 'common.net'), 'utf8'));
  });

  it('builds source from netImports', () => {
    const spec = { netSource: MAIN, netImports: { 'lib/act.net': ACT, './lib/more.net': MORE } };
    const network = resolveNetwork(spec);
    assert.deepEqual(network.imports(), { 'lib/act.net': ACT, 'lib/more.net': MORE });
    assert.deepEqual(network.toJSON(), spec);
    const rebuilt = resolveNetwork(network.toJSON() as typeof spec);
    assert.deepEqual(rebuilt.toGraph(1).outputs[0]!.value.shape, [1, 2, 4, 4, 4]);
  });

  it('rejects an import outside the folder', () => {
    const network = resolveNetwork({ netFile: join(folder, 'outside.net') });
    assert.throws(() => network.imports(), /imports '.*-up\.net', which lies outside its folder/);
  });

  const bad: [string, object, RegExp][] = [
    [
      'an import missing from netImports',
      { netSource: MAIN, netImports: { 'lib/act.net': ACT } },
      /imported file 'more.net' not found/,
    ],
    ['netImports that are not text', { netSource: MAIN, netImports: { 'a.net': 3 } }, /netImports/],
    ['netImports as a list', { netSource: MAIN, netImports: [ACT] }, /netImports must map/],
    ['a missing file', { netFile: join('/nonexistent', 'x.net') }, /Cannot read the .net file/],
  ];
  for (const [title, spec, message] of bad) {
    it(`rejects ${title}`, () => {
      assert.throws(() => resolveNetwork(spec), message);
    });
  }
});
