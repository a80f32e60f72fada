// Shared pieces of the tests that run bundles in Debian's headless chromium: the executable,
// its flags, a skip when it is missing, and a static server for a bundled page.

import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

// Flags under which Debian's headless chromium exposes WebGPU on SwiftShader (Vulkan on the
// CPU) on a machine without a GPU, checked with chromium 156 on Debian 12. The networking
// flags stop chromium's background connections, which this machine's closed network refuses.
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--use-webgpu-adapter=swiftshader',
];

/** Skips the calling suite (from `before`) when chromium is not installed. */
export function skipWithoutChromium(context: Mocha.Context): void {
  if (existsSync(CHROMIUM)) return;
  console.log(`    skipped: ${CHROMIUM} is missing; \`npm run setup\` installs Debian's chromium`);
  context.skip();
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface ServedFile {
  type: string;
  body: string | Uint8Array;
}

/** Adds esbuild's output files to `files` under their base names. */
export function addBundle(
  files: Map<string, ServedFile>,
  outputFiles: readonly { path: string; contents: Uint8Array }[],
): void {
  for (const file of outputFiles) {
    const name = `/${file.path.split('/').at(-1)}`;
    const type = name.endsWith('.js') ? 'text/javascript' : 'application/json';
    files.set(name, { type, body: file.contents });
  }
}

/** Serves `files` (by URL path) on 127.0.0.1 at an ephemeral port; returns the server and base URL. */
export async function serveFiles(
  files: ReadonlyMap<string, ServedFile>,
): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const file = files.get(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    response.writeHead(file ? 200 : 404, { 'content-type': file?.type ?? 'text/plain' });
    response.end(file?.body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/` };
}
