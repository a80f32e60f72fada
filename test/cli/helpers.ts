// Shared by the CLI tests: runs the program in-process with captured output.

import { main } from '../../src/cli/main.js';

export interface CapturedRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** A writer that keeps what is written. */
export class Capture {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** Runs `clinicadl-webgpu ...args` and returns its exit status and output. */
export async function runCli(...args: string[]): Promise<CapturedRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const status = await main(args, { stdout, stderr });
  return { status, stdout: stdout.text, stderr: stderr.text };
}
