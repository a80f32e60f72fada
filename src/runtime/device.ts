// Device acquisition, the only part of the runtime that differs between Node and browsers.
// Node gets its GPU object from Dawn's binding (npm `webgpu`); a browser (or a worker) from
// navigator.gpu. Everything after acquisition is shared.

import { GpuError, UserError } from '../errors.js';
import { createLogger } from '../log.js';
import { Gpu } from './gpu.js';

const log = createLogger('runtime');

export interface AcquireOptions {
  /** A GPU object to use instead of navigator.gpu or Dawn's Node binding (tests, workers). */
  gpu?: GPU;
  /**
   * Picks the adapter whose vendor, architecture, device or description contains this text
   * (case-insensitive). Default: the CLINICADL_ADAPTER environment variable, else the first
   * adapter of `powerPreference`.
   */
  adapterName?: string;
  /** Default 'high-performance', so hybrid laptops use the discrete GPU. */
  powerPreference?: GPUPowerPreference;
  /** Features the caller cannot do without; acquisition fails when the adapter lacks one. */
  requiredFeatures?: GPUFeatureName[];
}

/** Optional features requested whenever the adapter has them. */
const WANTED_FEATURES: GPUFeatureName[] = [
  'timestamp-query',
  'shader-f16',
  'subgroups' as GPUFeatureName,
];

let nodeGpu: GPU | undefined;

async function defaultGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new GpuError(
      'This browser has no WebGPU (navigator.gpu is undefined). Use a browser with WebGPU ' +
        'enabled, e.g. Chrome 113+ or Chromium with --enable-unsafe-webgpu.',
    );
  }
  if (!nodeGpu) {
    // The module name is held in a variable so that browser bundles never pull Dawn in.
    const moduleName = 'webgpu';
    const dawn = (await import(moduleName)) as { create(flags: string[]): GPU; globals: object };
    Object.assign(globalThis, dawn.globals);
    nodeGpu = dawn.create([]);
  }
  return nodeGpu;
}

export function describeAdapter(info: GPUAdapterInfo): string {
  const parts = [info.vendor, info.architecture, info.device, info.description].filter(
    (part) => part !== undefined && part !== '',
  );
  return parts.length > 0 ? parts.join(' / ') : 'unnamed adapter';
}

function matchesName(info: GPUAdapterInfo, name: string): boolean {
  const needle = name.toLowerCase();
  return [info.vendor, info.architecture, info.device, info.description].some((field) =>
    (field ?? '').toLowerCase().includes(needle),
  );
}

async function chooseAdapter(gpu: GPU, options: AcquireOptions): Promise<GPUAdapter> {
  const envName = typeof process !== 'undefined' ? process.env?.CLINICADL_ADAPTER : undefined;
  const name = options.adapterName ?? (envName || undefined);
  const preferences: GPUPowerPreference[] = [options.powerPreference ?? 'high-performance'];
  if (name !== undefined)
    preferences.push(preferences[0] === 'low-power' ? 'high-performance' : 'low-power');

  const seen: GPUAdapter[] = [];
  for (const powerPreference of preferences) {
    const adapter = await gpu.requestAdapter({ powerPreference });
    if (!adapter) continue;
    if (name === undefined || matchesName(adapter.info, name)) return adapter;
    seen.push(adapter);
  }
  if (name !== undefined) {
    // Both power preferences may return the same adapter: list each name once.
    const names = new Set(seen.map((adapter) => `'${describeAdapter(adapter.info)}'`));
    const found = [...names].join(', ');
    throw new UserError(
      `No WebGPU adapter matches the name '${name}' (found: ${found || 'none'}). ` +
        'Set CLINICADL_ADAPTER or adapterName to a part of one of these names, or unset it.',
    );
  }
  throw new GpuError(
    'No WebGPU adapter found. On Debian 12 without a GPU, run `npm run setup` to install ' +
      "Mesa 25's lavapipe from bookworm-backports; in a browser, enable WebGPU.",
  );
}

/** Copies every numeric limit of the adapter, so the device gets the adapter's maximums. */
function adapterLimits(adapter: GPUAdapter): Record<string, number> {
  const limits: Record<string, number> = {};
  // GPUSupportedLimits exposes its fields as prototype getters, so walk the prototype.
  const proto = Object.getPrototypeOf(adapter.limits) as object;
  for (const key of Object.keys(Object.getOwnPropertyDescriptors(proto))) {
    const value = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') limits[key] = value;
  }
  return limits;
}

/**
 * Acquires an adapter and a device with the adapter's limits and the optional features it
 * has (timestamp-query, shader-f16, subgroups).
 */
export async function acquireGpu(options: AcquireOptions = {}): Promise<Gpu> {
  const gpu = options.gpu ?? (await defaultGpu());
  const adapter = await chooseAdapter(gpu, options);
  for (const feature of options.requiredFeatures ?? []) {
    if (!adapter.features.has(feature)) {
      throw new GpuError(
        `The adapter '${describeAdapter(adapter.info)}' lacks the required feature '${feature}'.`,
      );
    }
  }
  const features = new Set<GPUFeatureName>(options.requiredFeatures ?? []);
  for (const feature of WANTED_FEATURES) if (adapter.features.has(feature)) features.add(feature);

  const device = await adapter.requestDevice({
    requiredFeatures: [...features],
    requiredLimits: adapterLimits(adapter),
  });
  log.info(
    `adapter: ${describeAdapter(adapter.info)}; features: ${[...features].join(', ') || 'none'}`,
  );
  return new Gpu(device, adapter.info);
}
