// Builds the project: typecheck (tsc), the AssemblyScript module (npm run build:wasm), and two
// esbuild bundles, build/cli.js for Node and build/web/ for browsers. A step whose source is
// not there yet is skipped with a message. Usage: node scripts/build.mjs
//
// The bundling functions are exported so tests can bundle their own entry points.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/**
 * esbuild plugin that fails the browser bundle when anything imports Dawn's Node binding or a
 * Node built-in module, naming the importing file. Imports whose specifier is not a string
 * literal (the runtime's `import(moduleName)` of 'webgpu') are not resolved by esbuild, so
 * they stay out of the bundle without tripping this check.
 */
const browserOnly = {
  name: 'browser-only',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.path !== 'webgpu' && !NODE_BUILTINS.has(args.path)) return undefined;
      const importer = args.importer ? relative(ROOT, args.importer) : 'the entry point';
      return {
        errors: [
          {
            text:
              `'${args.path}' is a Node-only module, imported by ${importer}, which the ` +
              'browser bundle includes. Keep Node-only imports out of the code src/web reaches.',
          },
        ],
      };
    });
  },
};

/** Bundles a Node entry point (ESM, Dawn's binding left external) into `outfile`. */
export function bundleNode({ entry, outfile, write = true, logLevel = 'warning' }) {
  return esbuild.build({
    entryPoints: [entry],
    outfile,
    write,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    loader: { '.wgsl': 'text' },
    external: ['webgpu'],
    // Bundled CommonJS dependencies call require(); ESM output has none unless given one.
    banner: {
      // A private alias: bundled ESM code (fflate) imports createRequire under its own name.
      js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);",
    },
    logLevel,
  });
}

/**
 * Bundles browser entry points into `outdir` (ESM, WGSL and .net sources as text, wasm embedded
 * as bytes, imported CSS gathered into one .css file per entry point).
 * With `write: false` the output stays in memory, in the result's outputFiles.
 */
export function bundleBrowser({ entryPoints, outdir, write = true, logLevel = 'warning' }) {
  return esbuild.build({
    entryPoints,
    outdir,
    write,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    sourcemap: true,
    loader: { '.wgsl': 'text', '.net': 'text', '.wasm': 'binary' },
    plugins: [browserOnly],
    logLevel,
  });
}

// Files the page loads beside its bundle: the HTML, its style sheet and the wasm module.
const WEB_ASSETS = [
  ['src/web/index.html', 'build/web/index.html'],
  ['src/web/style.css', 'build/web/style.css'],
  ['build/clinicadl.wasm', 'build/web/clinicadl.wasm'],
];

/** Bundles the web application into `outdir`: the page (main.js, main.css) and its worker. */
function bundleWeb(outdir) {
  const entryPoints = ['src/web/main.ts', 'src/web/worker.ts'].map((path) => join(ROOT, path));
  return bundleBrowser({ entryPoints, outdir });
}

function copyWebAssets() {
  for (const [from, to] of WEB_ASSETS) {
    if (!existsSync(join(ROOT, from))) continue;
    console.log(`build: copying ${from} to ${to}`);
    copyFileSync(join(ROOT, from), join(ROOT, to));
  }
}

function run(command, args) {
  console.log(`build: ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed with exit status ${result.status}`);
  }
}

function skip(step, missing) {
  console.log(`build: skipping ${step}: ${missing} does not exist yet`);
}

async function main() {
  run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.']);

  if (existsSync(join(ROOT, 'assembly/index.ts'))) run('npm', ['run', '--silent', 'build:wasm']);
  else skip('the wasm module', 'assembly/index.ts');

  const cliEntry = join(ROOT, 'src/cli/main.ts');
  if (existsSync(cliEntry)) {
    console.log('build: bundling build/cli.js');
    await bundleNode({ entry: cliEntry, outfile: join(ROOT, 'build/cli.js') });
  } else skip('build/cli.js', 'src/cli/main.ts');

  const webEntry = join(ROOT, 'src/web/main.ts');
  if (existsSync(webEntry)) {
    console.log('build: bundling build/web/');
    await bundleWeb(join(ROOT, 'build/web'));
    copyWebAssets();
  } else skip('build/web/', 'src/web/main.ts');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await main();
  } catch (error) {
    console.error(`build: ${error.message}`);
    process.exitCode = 1;
  }
}
