// The experiment folder (ClinicaDL's MAPS): experiment.json, the network source, and per split
// training.tsv, best-<metric>/model.safetensors, checkpoints/last/ and <set>/ results. Every
// file is written atomically (temporary name, then rename).

import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors.js';

/** Version of the folder layout; readers reject other versions. */
export const MAPS_VERSION = 1;

const encoder = new TextEncoder();

export async function writeText(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, [encoder.encode(text)]);
}

export async function writeJson(path: string, json: unknown): Promise<void> {
  await writeText(path, `${JSON.stringify(json, null, 2)}\n`);
}

export async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UserError(`Cannot read '${path}': ${(error as Error).message}.`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UserError(`'${path}' is not valid JSON (${(error as Error).message}).`);
  }
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export class Maps {
  constructor(readonly root: string) {}

  get experimentPath(): string {
    return join(this.root, 'experiment.json');
  }

  split(k: number): string {
    return join(this.root, `split-${k}`);
  }

  best(k: number, metric: string): string {
    return join(this.split(k), `best-${metric}`);
  }

  checkpoint(k: number): string {
    return join(this.split(k), 'checkpoints', 'last');
  }

  /** Reads experiment.json, rejecting a folder written with another layout version. */
  async readExperiment(): Promise<Record<string, unknown>> {
    const json = (await readJson(this.experimentPath)) as Record<string, unknown>;
    if (json?.mapsVersion !== MAPS_VERSION) {
      throw new UserError(
        `'${this.experimentPath}' has mapsVersion ${JSON.stringify(json?.mapsVersion)}, but this ` +
          `version of clinicadl-webgpu reads version ${MAPS_VERSION}. Train again into a new ` +
          `folder, or use the clinicadl-webgpu version that wrote it.`,
      );
    }
    return json;
  }
}

/** Encodes weights in PyTorch state_dict layout (f32, names as state_dict keys). */
export function encodeWeights(
  state: Map<string, Float32Array>,
  shapes: Map<string, number[]>,
): Uint8Array {
  const tensors = new Map<string, NamedTensor>();
  for (const [name, data] of state) {
    tensors.set(name, { dtype: 'F32', shape: shapes.get(name) ?? [data.length], data });
  }
  return encodeSafetensors(tensors);
}

export async function writeWeights(
  path: string,
  state: Map<string, Float32Array>,
  shapes: Map<string, number[]>,
): Promise<void> {
  await writeFileAtomic(path, [encodeWeights(state, shapes)]);
}

export async function readWeights(path: string): Promise<Map<string, Float32Array>> {
  const bytes = await readFile(path).catch((error: Error) => {
    throw new UserError(`Cannot read the weights '${path}': ${error.message}.`);
  });
  const state = new Map<string, Float32Array>();
  for (const [name, tensor] of decodeSafetensors(bytes, path).tensors) {
    if (tensor.dtype !== 'F32') {
      throw new UserError(`'${path}': tensor '${name}' is ${tensor.dtype}; expected F32 weights.`);
    }
    state.set(name, tensor.data as Float32Array);
  }
  return state;
}

/**
 * Replaces the folder `path` by one that `fill` writes: a crash leaves either the old folder,
 * the new one, or (between the two renames) the old one under `<path>.old`, which
 * `resolveFolder` finds.
 */
export async function replaceFolder(path: string, fill: (folder: string) => Promise<void>) {
  const next = `${path}.next`;
  const old = `${path}.old`;
  await rm(next, { recursive: true, force: true });
  await mkdir(next, { recursive: true });
  await fill(next);
  await rm(old, { recursive: true, force: true });
  if (await exists(path)) await rename(path, old);
  await rename(next, path);
  await rm(old, { recursive: true, force: true });
}

/** Finds the folder replaceFolder last completed: `path`, or `<path>.old` after a crash. */
export async function resolveFolder(path: string): Promise<string | undefined> {
  if (await exists(path)) return path;
  if (await exists(`${path}.old`)) return `${path}.old`;
  return undefined;
}

/** Formats one TSV row; numbers keep full precision. */
export function tsvRow(cells: readonly (string | number)[]): string {
  return `${cells.map((cell) => String(cell).replace(/[\t\n]/g, ' ')).join('\t')}\n`;
}
