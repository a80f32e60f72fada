import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleBrowser, bundleNode, ROOT } from '../../scripts/build.mjs';

describe('build: bundles', () => {
  let folder: string;
  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'clinicadl-build-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  /** Writes an entry point that imports `specifier` and returns its path. */
  function entryImporting(name: string, specifier: string): string {
    const path = join(folder, `${name}.ts`);
    writeFileSync(
      path,
      `import * as imported from '${specifier}';\nexport const value = imported;\n`,
    );
    return path;
  }

  const nodeOnly = ['node:fs', 'fs', 'node:worker_threads', 'webgpu'];
  for (const specifier of nodeOnly) {
    it(`rejects '${specifier}' in the browser bundle`, async () => {
      const entry = entryImporting(specifier.replace(/\W/g, '_'), specifier);
      await assert.rejects(
        bundleBrowser({
          entryPoints: [entry],
          outdir: join(folder, 'out'),
          write: false,
          logLevel: 'silent',
        }),
        (error: Error) =>
          error.message.includes(`'${specifier}' is a Node-only module`) &&
          error.message.includes(`${specifier.replace(/\W/g, '_')}.ts`),
      );
    });
  }

  it('bundles the runtime and WGSL text for browsers', async () => {
    writeFileSync(
      join(folder, 'probe.wgsl'),
      '// probe shader\n@compute @workgroup_size(1) fn main() {}\n',
    );
    const entry = join(folder, 'page.ts');
    writeFileSync(
      entry,
      `import source from './probe.wgsl';\nimport { acquireGpu } from '${ROOT}/src/runtime/index.js';\n` +
        'export const page = { source, acquireGpu };\n',
    );
    const result = await bundleBrowser({
      entryPoints: [entry],
      outdir: join(folder, 'out'),
      write: false,
      logLevel: 'silent',
    });
    const script = result.outputFiles!.find((file) => file.path.endsWith('.js'))!.text;
    assert.match(script, /probe shader/);
    assert.match(script, /navigator/);
    assert.doesNotMatch(script, /from ['"]webgpu['"]/);
    assert.doesNotMatch(script, /from ['"]node:/);
  });

  it('keeps Dawn external in the Node bundle', async () => {
    const entry = entryImporting('dawn', 'webgpu');
    const result = await bundleNode({
      entry,
      outfile: join(folder, 'cli.js'),
      write: false,
      logLevel: 'silent',
    });
    const script = result.outputFiles!.find((file) => file.path.endsWith('cli.js'))!.text;
    assert.match(script, /from "webgpu"/);
  });
});
