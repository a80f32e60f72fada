// `clinicadl-webgpu web [experiment-folder] [--port N] [--host ADDRESS]` serves the browser
// application (build/web, written by `npm run build`) and one experiment folder on a local
// HTTP server, prints the page's URL and runs until Ctrl-C.
//
// The page loads its default model from `experiment/` beside it: `experiment/files.json`
// lists the folder's files (paths relative to the folder, '/'-separated) and
// `experiment/<path>` returns one of them. Any static host that serves the same two kinds of
// URL gives the page the same default model; without them the page starts with none.

import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Command } from 'commander';

import { UserError } from '../errors.js';
import { createLogger } from '../log.js';
import { integerIn, type Writer } from './io.js';
import type { CommandContext } from './main.js';

const log = createLogger('web');

/** URL prefix under which the experiment folder's files are served. */
export const EXPERIMENT_PREFIX = '/experiment/';

/** The experiment served when none is given, relative to the working directory. */
export const DEMO_EXPERIMENT = join('out', 'demo', 'maps');

// build/web beside the bundle (build/cli.js) or, running from src/cli, under the package root.
export const DEFAULT_WEB_ROOT = fileURLToPath(
  /\/src\/cli\/web\.[jt]s$/.test(import.meta.url)
    ? new URL('../../build/web', import.meta.url)
    : new URL('./web', import.meta.url),
);

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.tsv': 'text/tab-separated-values; charset=utf-8',
  '.net': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export interface WebServerOptions {
  /** The built page, build/web by default. */
  webRoot?: string;
  /** The experiment folder served under /experiment/; none when undefined. */
  experiment?: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Address to bind. Default 127.0.0.1, so only this machine can connect. */
  host?: string;
}

export interface WebServer {
  server: Server;
  /** The page's URL, such as http://127.0.0.1:8080/. */
  url: string;
  close(): Promise<void>;
}

/** Registers `web`. */
export function registerWeb(program: Command, context: CommandContext): void {
  program
    .command('web')
    .description(
      'serve the browser application and an experiment folder on a local HTTP server: the ' +
        'page runs the model on a NIfTI volume with WebGPU and shows the result in a viewer',
    )
    .argument(
      '[experiment-folder]',
      `experiment folder the page loads by default (default: ${DEMO_EXPERIMENT} when it exists)`,
    )
    .option('--port <n>', 'TCP port to listen on (default: 8080)', integerIn(0, 65535))
    .option(
      '--host <address>',
      'address to bind (default: 127.0.0.1, reachable from this machine only)',
    )
    .action(async (folder: string | undefined, options: { port?: number; host?: string }) => {
      const experiment = folder ?? (existsSync(DEMO_EXPERIMENT) ? DEMO_EXPERIMENT : undefined);
      await runWeb({ ...options, experiment }, context.io.stdout, untilInterrupted());
    });
}

/**
 * Serves the page until `stop` resolves, printing what is served and where. The command
 * passes a promise that resolves on Ctrl-C (SIGINT) or SIGTERM.
 */
export async function runWeb(
  options: WebServerOptions,
  stdout: Writer,
  stop: Promise<void>,
): Promise<void> {
  const web = await startWebServer(options);
  stdout.write(
    options.experiment === undefined
      ? `No experiment folder given and ${DEMO_EXPERIMENT} does not exist (run ` +
          '`npm start` to train the demo); the page starts without a model.\n'
      : `Serving the experiment folder ${resolve(options.experiment)}\n`,
  );
  stdout.write(`Open ${web.url} in a browser with WebGPU. Press Ctrl-C to stop.\n`);
  await stop;
  await web.close();
  stdout.write('Server stopped.\n');
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilInterrupted(): Promise<void> {
  return new Promise((resolveStop) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolveStop();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Checks the folders, then starts the server. Throws a UserError for bad input. */
export async function startWebServer(options: WebServerOptions = {}): Promise<WebServer> {
  const experiment = options.experiment === undefined ? undefined : resolve(options.experiment);
  if (experiment !== undefined) await checkExperiment(experiment, options.experiment!);
  const webRoot = resolve(options.webRoot ?? DEFAULT_WEB_ROOT);
  if (!existsSync(join(webRoot, 'index.html')) || !existsSync(join(webRoot, 'main.js'))) {
    throw new UserError(
      `The browser application is not built: ${join(webRoot, 'index.html')} or main.js is ` +
        'missing. Run `npm run build` first.',
    );
  }
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  const server = createServer((request, response) => {
    handle(request, response, webRoot, experiment).catch((error: unknown) => {
      log.error(`${request.method} ${request.url} failed: ${(error as Error).message}`);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`internal error: ${(error as Error).message}`);
    });
  });
  await listen(server, port, host);
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shownHost}:${address.port}/`,
    // Open keep-alive connections from a browser tab would otherwise hold close() back.
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

async function checkExperiment(folder: string, shownName: string): Promise<void> {
  const info = await stat(folder).catch(() => null);
  if (info === null || !info.isDirectory()) {
    throw new UserError(`The experiment folder '${shownName}' does not exist or is not a folder.`);
  }
  const configPath = join(folder, 'experiment.json');
  const text = await readFile(configPath, 'utf8').catch(() => null);
  if (text === null) {
    throw new UserError(
      `'${shownName}' is not an experiment folder: ${configPath} is missing. Give a folder that ` +
        '`clinicadl-webgpu train` or `demo` wrote.',
    );
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${configPath} is not valid JSON: ${(error as Error).message}.`);
  }
  const model = (config as { model?: unknown } | null)?.model;
  if (model === null || typeof model !== 'object') {
    throw new UserError(`${configPath} has no 'model' object, so it describes no experiment.`);
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((done, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        fail(new UserError(`Port ${port} on ${host} is in use; choose another with --port.`));
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
        fail(new UserError(`Cannot bind to the address '${host}' (${error.code}); check --host.`));
      } else fail(error);
    });
    server.listen(port, host, () => done());
  });
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  webRoot: string,
  experiment: string | undefined,
): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
    response.end('only GET and HEAD are allowed');
    return;
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
  } catch {
    return notFound(response);
  }
  if (path.startsWith(EXPERIMENT_PREFIX)) {
    if (experiment === undefined) return notFound(response);
    const inner = path.slice(EXPERIMENT_PREFIX.length);
    if (inner === 'files.json') {
      const files = await listFiles(experiment);
      return sendBody(request, response, JSON.stringify({ files }), '.json');
    }
    return sendFile(request, response, experiment, inner);
  }
  return sendFile(request, response, webRoot, path === '/' ? 'index.html' : path.slice(1));
}

/** Sends `inner` from inside `root`; a path that leaves `root` or is no file gets 404. */
async function sendFile(
  request: IncomingMessage,
  response: ServerResponse,
  root: string,
  inner: string,
): Promise<void> {
  const path = resolve(root, inner);
  if (path !== root && !path.startsWith(root + sep)) return notFound(response);
  const info = await stat(path).catch(() => null);
  if (info === null || !info.isFile()) return notFound(response);
  response.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': 'no-cache',
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(path).pipe(response);
}

function sendBody(
  request: IncomingMessage,
  response: ServerResponse,
  body: string,
  extension: string,
): void {
  response.writeHead(200, {
    'content-type': CONTENT_TYPES[extension]!,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache',
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

function notFound(response: ServerResponse): void {
  response.writeHead(404, { 'content-type': 'text/plain' });
  response.end('not found');
}

/** Lists the regular files under `folder`, '/'-separated and relative to it, sorted. */
export async function listFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}
