// Checks that the machine has what the project needs at run time and installs what is missing
// when it can (root and apt-get on Debian): a WebGPU adapter for Dawn, Debian's mricron-data
// (Colin27 T1 and atlases) and chromium (browser tests). Plain Node ESM so it runs before any
// build. Usage: node scripts/setup.mjs [--if-needed]
//
// --if-needed returns at once when a cached successful check still matches the installed
// package versions; `npm test` and `npm start` call it that way.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CHROMIUM_PATH,
  DRIVER_PACKAGES,
  TEMPLATE_PATH,
  cacheKey,
  debVersionsFrom,
  isCacheFresh,
  parseAptSources,
  parseOsRelease,
  planSetup,
} from './setup-plan.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CACHE_PATH = join(ROOT, 'node_modules/.cache/clinicadl-webgpu/setup.json');
const PROBE_TIMEOUT_MS = 30_000;
const PROBE_MARK = 'clinicadl-webgpu-probe:';

// Runs in a child process so that a driver which hangs or crashes takes down only the child.
const PROBE_SCRIPT = `
const report = (result) => console.log(${JSON.stringify(PROBE_MARK)} + JSON.stringify(result));
let webgpu;
try {
  webgpu = await import('webgpu');
} catch (error) {
  report({ status: 'no-package', detail: String(error?.message ?? error) });
  process.exit(0);
}
const gpu = webgpu.create([]);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) {
  report({ status: 'no-adapter', detail: 'requestAdapter() returned null' });
  process.exit(0);
}
const { vendor, architecture, description } = adapter.info;
const device = await adapter.requestDevice();
device.destroy();
report({ status: 'ok', adapter: { vendor, architecture, description } });
process.exit(0);
`;

/**
 * Asks Dawn for an adapter and a device in a child process. Returns { status, adapter?,
 * detail? } with status 'ok', 'no-adapter', 'no-package' or 'failed' (crash or timeout).
 */
export function probeAdapter(timeoutMs = PROBE_TIMEOUT_MS) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', PROBE_SCRIPT], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((text) => text.startsWith(PROBE_MARK));
      if (line) return resolve(JSON.parse(line.slice(PROBE_MARK.length)));
      const how =
        signal === 'SIGKILL' ? `timed out after ${timeoutMs} ms` : `exit ${code ?? signal}`;
      const lastLines = stderr.trim().split('\n').slice(-3).join(' | ');
      resolve({
        status: 'failed',
        detail: `adapter probe ${how}${lastLines ? `: ${lastLines}` : ''}`,
      });
    });
  });
}

function readText(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function readAptSources() {
  const files = [{ path: '/etc/apt/sources.list', text: readText('/etc/apt/sources.list') }];
  const folder = '/etc/apt/sources.list.d';
  const names = existsSync(folder) ? readdirSync(folder) : [];
  for (const name of names.filter((entry) => /\.(list|sources)$/.test(entry))) {
    files.push({ path: join(folder, name), text: readText(join(folder, name)) });
  }
  return parseAptSources(files);
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function currentCacheKey() {
  let webgpuVersion = null;
  try {
    webgpuVersion = JSON.parse(readText(join(ROOT, 'node_modules/webgpu/package.json'))).version;
  } catch {
    // A missing package gives no version, so the key never matches a successful check.
  }
  return cacheKey({
    nodeVersion: process.version,
    webgpuVersion,
    debVersions: debVersionsFrom(readText('/var/lib/dpkg/status'), DRIVER_PACKAGES),
  });
}

function readCache() {
  try {
    return JSON.parse(readFileSync(CACHE_PATH, 'utf8'));
  } catch {
    return null;
  }
}

/** Stores a successful check; a cache that cannot be written only costs a probe next time. */
function writeCache(key, adapter) {
  try {
    mkdirSync(dirname(CACHE_PATH), { recursive: true });
    writeFileSync(CACHE_PATH, JSON.stringify({ ok: true, key, adapter }, null, 2) + '\n');
  } catch (error) {
    console.warn(`setup: cannot write the cache ${CACHE_PATH}: ${error.message}`);
  }
}

// ---------------------------------------------------------------- acting

async function inspectMachine() {
  return {
    adapter: await probeAdapter(),
    hasTemplates: existsSync(TEMPLATE_PATH),
    hasChromium: existsSync(CHROMIUM_PATH),
    os: parseOsRelease(readText('/etc/os-release')),
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    hasAptGet: hasCommand('apt-get'),
    sources: readAptSources(),
  };
}

function runStep(step) {
  if (step.kind === 'write-file') {
    console.log(`setup: writing ${step.path} to ${step.reason}`);
    writeFileSync(step.path, step.content);
    return;
  }
  console.log(`setup: apt-get ${step.args.join(' ')} (${step.reason})`);
  const result = spawnSync('apt-get', step.args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.status !== 0) {
    throw new Error(`apt-get ${step.args.join(' ')} failed with exit status ${result.status}`);
  }
}

function describeAdapter(adapter) {
  const { vendor, architecture, description } = adapter;
  return [description, vendor, architecture].filter(Boolean).join(', ') || 'unnamed adapter';
}

function fail(lines) {
  console.error('setup: the machine is missing what the project needs:');
  for (const line of lines) console.error(`  - ${line}`);
  process.exitCode = 1;
}

async function main(argv) {
  const ifNeeded = argv.includes('--if-needed');
  const key = currentCacheKey();
  const quick = { hasTemplates: existsSync(TEMPLATE_PATH), hasChromium: existsSync(CHROMIUM_PATH) };
  if (ifNeeded && isCacheFresh(readCache(), key, quick)) return;

  const env = await inspectMachine();
  const { steps, manual } = planSetup(env);
  if (manual.length > 0) return fail(manual);
  for (const step of steps) runStep(step);

  const adapter = steps.length > 0 ? await probeAdapter() : env.adapter;
  if (adapter.status !== 'ok') {
    return fail([`Still no WebGPU adapter after installing drivers: ${adapter.detail}.`]);
  }
  writeCache(currentCacheKey(), adapter.adapter);
  console.log(`setup: WebGPU adapter: ${describeAdapter(adapter.adapter)}`);
  if (steps.length === 0) console.log('setup: nothing to install; the machine is ready');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await main(process.argv.slice(2));
  } catch (error) {
    console.error(`setup: ${error.message}`);
    process.exitCode = 1;
  }
}
