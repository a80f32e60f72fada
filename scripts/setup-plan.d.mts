// Types of scripts/setup-plan.mjs, for the tests that import it from TypeScript.

export interface ProbeResult {
  status: 'ok' | 'no-adapter' | 'no-package' | 'failed';
  adapter?: { vendor: string; architecture: string; description: string };
  detail?: string;
}

export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
}

export interface MachineState {
  adapter: ProbeResult;
  hasTemplates: boolean;
  hasChromium: boolean;
  os: { id: string; versionCodename: string };
  isRoot: boolean;
  hasAptGet: boolean;
  sources: AptSource[];
}

export type SetupStep =
  | { kind: 'write-file'; path: string; content: string; reason: string }
  | { kind: 'apt-get'; args: string[]; reason: string };

export const TEMPLATE_PATH: string;
export const CHROMIUM_PATH: string;
export const BACKPORTS_PATH: string;
export const DRIVER_PACKAGES: string[];

export function parseOsRelease(text: string): { id: string; versionCodename: string };
export function parseAptSources(files: { path: string; text: string }[]): AptSource[];
export function findDebianMirror(sources: AptSource[], codename: string): string;
export function hasSuite(sources: AptSource[], suite: string): boolean;
export function backportsSource(mirror: string, codename: string): string;
export function planSetup(env: MachineState): { steps: SetupStep[]; manual: string[] };
export function cacheKey(parts: {
  nodeVersion: string;
  webgpuVersion: string | null;
  debVersions: Record<string, string>;
}): string;
export function debVersionsFrom(statusText: string, packages: string[]): Record<string, string>;
export function isCacheFresh(
  cache: { ok?: boolean; key?: string } | null,
  key: string,
  env: { hasTemplates: boolean; hasChromium: boolean },
): boolean;
