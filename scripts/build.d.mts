// Types of scripts/build.mjs, for the tests that bundle their own entry points.
import type { BuildResult } from 'esbuild';

export const ROOT: string;

export function bundleNode(options: {
  entry: string;
  outfile: string;
  write?: boolean;
}): Promise<BuildResult<{ write: boolean }>>;

export function bundleBrowser(options: {
  entryPoints: string[];
  outdir: string;
  write?: boolean;
}): Promise<BuildResult<{ write: boolean }>>;
