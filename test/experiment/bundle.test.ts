import assert from 'node:assert/strict';
import { join } from 'node:path';

import { bundleBrowser, ROOT } from '../../scripts/build.mjs';

// The browser page bundles the loader, so nothing it imports may need Node.
describe('experiment loader bundle', () => {
  it('bundles for browsers', async () => {
    const result = await bundleBrowser({
      entryPoints: [join(ROOT, 'src/experiment/index.ts')],
      outdir: join(ROOT, 'build/test-experiment'),
      write: false,
      logLevel: 'silent',
    });
    assert.deepEqual(result.errors, []);
    assert.ok((result.outputFiles ?? []).some((file) => file.path.endsWith('index.js')));
  });
});
