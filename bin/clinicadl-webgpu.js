#!/usr/bin/env node
// Runs the clinicadl-webgpu command from the bundle that `npm run build` writes to build/cli.js.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../build/cli.js', import.meta.url);

if (!existsSync(bundle)) {
  process.stderr.write(
    `error: ${fileURLToPath(bundle)} not found; run \`npm run build\` in ` +
      `${fileURLToPath(new URL('..', import.meta.url))} first.\n`,
  );
  process.exitCode = 1;
} else {
  const { main, ignoreClosedPipe } = await import(bundle.href);
  ignoreClosedPipe();
  process.exitCode = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
  });
}
