import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/lose-device.ts', import.meta.url));
const EXIT_TIMEOUT_MS = 60_000;

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs the fixture in its own Node process, which must exit on its own. */
function runFixture(mode: string): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', './scripts/node-loaders.mjs', FIXTURE, mode],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, EXIT_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

describe('runtime device loss', () => {
  const modes = [
    { mode: 'destroy', how: 'device.destroy() mid-run', submitAfter: /^submitted$/ },
    { mode: 'gpu', how: 'Gpu.destroy() mid-run', submitAfter: /^GpuError: .*destroyed/ },
  ];
  for (const { mode, how, submitAfter } of modes) {
    it(`turns ${how} into errors`, async function () {
      this.timeout(EXIT_TIMEOUT_MS + 10_000);
      const child = await runFixture(mode);
      assert.equal(child.timedOut, false, 'the process did not exit by itself');
      assert.equal(child.code, 0, child.stderr);
      const result = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Record<string, string>;
      const lost =
        /^GpuError: The WebGPU device was lost \(destroyed\) after program 'busy' \(busy_loop\)/;
      assert.match(result.read!, lost);
      assert.match(result.sync!, lost);
      assert.match(result.later!, lost);
      assert.match(result.submitAfter!, submitAfter);
    });
  }
});
