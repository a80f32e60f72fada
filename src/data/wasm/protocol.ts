// Messages between WorkerPool and its workers, the same for node:worker_threads and Web
// Workers. Everything here survives structured cloning; voxel buffers are transferred.

import { Volume, type VolumeHeader } from '../volume.js';
import type { PreprocessStep } from '../transforms/pipeline.js';

/** A volume as plain data: what crosses a worker boundary. */
export interface VolumeMessage {
  data: Float32Array;
  shape: number[];
  affine: Float64Array;
  header: VolumeHeader;
}

/** The source of a task's image: a file path (Node only), file bytes, or a decoded volume. */
export type TaskInput =
  | { kind: 'path'; path: string }
  | { kind: 'bytes'; bytes: ArrayBuffer | Uint8Array | Blob }
  | { kind: 'volume'; volume: VolumeMessage };

/** Main thread to worker. */
export type RequestMessage =
  | { type: 'init'; module: WebAssembly.Module }
  | { type: 'run'; id: number; name: string; input: TaskInput; steps: PreprocessStep[] };

/** Worker to main thread. */
export type ResponseMessage =
  | { type: 'ready' }
  | { type: 'result'; id: number; volume: VolumeMessage }
  | { type: 'error'; id: number; errorName: string; message: string };

export function toMessage(volume: Volume): VolumeMessage {
  return {
    data: volume.data,
    shape: [...volume.shape],
    affine: volume.affine,
    header: volume.header,
  };
}

export function fromMessage(message: VolumeMessage): Volume {
  return new Volume(message.data, message.shape, message.affine, message.header);
}
