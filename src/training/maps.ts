// The experiment folder (ClinicaDL's MAPS): experiment.json, the network source, and per split
// training.tsv, best-<metric>/model.safetensors, checkpoints/last/ and <set>/ results. Files
// are read and written through a MapsStorage, so the folder can be on disk (Node) or in memory
// (browsers). Paths are relative to the folder's root.

import { UserError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors.js';
import { joinPath, type MapsStorage } from './storage.js';

/** Version of the folder layout; readers reject other versions. */
export const MAPS_VERSION = 1;

const decoder = new TextDecoder();

export class Maps {
  /**
   * @param storage the folder's files
   * @param name names the folder in messages (its path on disk, or 'the experiment folder')
   */
  constructor(
    readonly storage: MapsStorage,
    readonly name: string,
  ) {}

  readonly experimentPath = 'experiment.json';

  split(k: number): string {
    return `split-${k}`;
  }

  best(k: number, metric: string): string {
    return joinPath(this.split(k), `best-${metric}`);
  }

  checkpoint(k: number): string {
    return joinPath(this.split(k), 'checkpoints', 'last');
  }

  /** Names `path` in messages: the folder's name followed by the relative path. */
  describe(path: string): string {
    return `'${joinPath(this.name, path)}'`;
  }

  async writeText(path: string, text: string): Promise<void> {
    await this.storage.writeFile(path, text);
  }

  async writeJson(path: string, json: unknown): Promise<void> {
    await this.writeText(path, `${JSON.stringify(json, null, 2)}\n`);
  }

  async readJson(path: string): Promise<unknown> {
    const text = decoder.decode(await this.read(path));
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new UserError(
        `${this.describe(path)} is not valid JSON (${(error as Error).message}).`,
      );
    }
  }

  async writeWeights(
    path: string,
    state: Map<string, Float32Array>,
    shapes: Map<string, number[]>,
  ): Promise<void> {
    await this.storage.writeFile(path, encodeWeights(state, shapes));
  }

  async readWeights(path: string): Promise<Map<string, Float32Array>> {
    return decodeWeights(await this.read(path), joinPath(this.name, path));
  }

  /** Reads experiment.json, rejecting a folder written with another layout version. */
  async readExperiment(): Promise<Record<string, unknown>> {
    const json = (await this.readJson(this.experimentPath)) as Record<string, unknown>;
    if (json?.mapsVersion !== MAPS_VERSION) {
      throw new UserError(
        `${this.describe(this.experimentPath)} has mapsVersion ` +
          `${JSON.stringify(json?.mapsVersion)}, but this version of clinicadl-webgpu reads ` +
          `version ${MAPS_VERSION}. Train again into a new folder, or use the ` +
          'clinicadl-webgpu version that wrote it.',
      );
    }
    return json;
  }

  private async read(path: string): Promise<Uint8Array> {
    try {
      return await this.storage.readFile(path);
    } catch (error) {
      throw new UserError(`Cannot read ${this.describe(path)}: ${(error as Error).message}`);
    }
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

/** Decodes f32 safetensors weights by state_dict name; `source` names the file in errors. */
export function decodeWeights(bytes: Uint8Array, source: string): Map<string, Float32Array> {
  const state = new Map<string, Float32Array>();
  for (const [name, tensor] of decodeSafetensors(bytes, source).tensors) {
    if (tensor.dtype !== 'F32') {
      throw new UserError(
        `'${source}': tensor '${name}' is ${tensor.dtype}; expected F32 weights.`,
      );
    }
    state.set(name, tensor.data as Float32Array);
  }
  return state;
}

/** Formats one TSV row; numbers keep full precision. */
export function tsvRow(cells: readonly (string | number)[]): string {
  return `${cells.map((cell) => String(cell).replace(/[\t\n]/g, ' ')).join('\t')}\n`;
}
