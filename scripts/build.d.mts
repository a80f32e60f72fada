// Types of scripts/build.mjs, for the tests that bundle their own entry points.
import type { BuildResult, LogLevel } from 'esbuild';

export const ROOT: string;

export function bundleNode(options: {
  entry: string;
  outfile: string;
  write?: boolean;
  /** esbuild's console output; default 'warning'. */
  logLevel?: LogLevel;
}): Promise<BuildResult<{ write: boolean }>>;

export function bundleBrowser(options: {
  entryPoints: string[];
  outdir: string;
  write?: boolean;
  /** esbuild's console output; default 'warning'. */
  logLevel?: LogLevel;
}): Promise<BuildResult<{ write: boolean }>>;
