// The `clinicadl-webgpu` command. Each command lives in its own module and registers itself on
// the program through the COMMANDS table. A new command (train, predict, ...) is one more
// module and one more entry there.
//
// Exit status 0 means success. Status 1 is a user's mistake (a UserError, an unknown command
// or option, a missing or invalid argument), reported in one line without a stack. Status 2 is
// an internal failure, reported with its message, and with its stack at log level debug.
// Status 130 is a command stopped by Ctrl-C after it printed what it kept (see train.ts).
//
// The bundle build/cli.js is also the script of the Wasm worker threads that `generate` starts
// (see the end of this file), because the bundle has no separate worker file.

import { isMainThread, parentPort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

import { Command, CommanderError, Option } from 'commander';

import packageJson from '../../package.json' with { type: 'json' };
import { UserError } from '../errors.js';
import { getLogLevel, setLogLevel, setLogSink, isLogEnabled, type LogLevel } from '../log.js';
import { registerBench } from './bench.js';
import { registerDemo } from './demo.js';
import { registerGenerate } from './generate.js';
import { INSPECT_USAGE, runInspect } from './inspect.js';
import { registerInterpret } from './interpret.js';
import { registerPredict } from './predict.js';
import { CommandInterrupted, INTERRUPTED_STATUS, registerTrain } from './train.js';
import { registerWeb } from './web.js';
import type { CliIO } from './io.js';

export type { CliIO } from './io.js';

export const PROGRAM_NAME = 'clinicadl-webgpu';
export const VERSION: string = packageJson.version;

/** Context given to each command module: the output streams and shared settings. */
export interface CommandContext {
  io: CliIO;
  /** The program's version, recorded in the files commands write. */
  version: string;
  /** The worker script for WorkerPool: the bundle itself when running from build/cli.js. */
  workerUrl?: URL;
}

/** A command module: adds its command (with options, help and action) to the program. */
export type RegisterCommand = (program: Command, context: CommandContext) => void;

/** The commands of the program, in the order `--help` lists them. */
export const COMMANDS: readonly RegisterCommand[] = [
  registerGenerate,
  registerInspect,
  registerTrain,
  registerPredict,
  registerInterpret,
  registerDemo,
  registerBench,
  registerWeb,
];

const LOG_LEVELS: readonly LogLevel[] = ['silent', 'error', 'warn', 'info', 'debug', 'wgsl'];

// When this file runs from the bundle, the bundle can serve as the worker script.
const runsFromBundle = import.meta.url.endsWith('.js');

/** Builds the commander program whose output goes to `io`. */
export function createProgram(io: CliIO): Command {
  const program = new Command(PROGRAM_NAME)
    .description(
      "ClinicaDL's deep-learning workflow for 3D neuroimaging on WebGPU: synthetic datasets, " +
        'networks written in .net files, training and inference.',
    )
    .version(VERSION, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help for the command')
    .addOption(
      new Option(
        '--log-level <level>',
        'library log detail on stderr (default: warn, or the ' +
          'CLINICADL_LOG environment variable)',
      ).choices(LOG_LEVELS),
    )
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: () => undefined,
    });
  program.hook('preAction', (thisCommand) => {
    const level = thisCommand.optsWithGlobals().logLevel as LogLevel | undefined;
    if (level !== undefined) setLogLevel(level);
  });
  const context: CommandContext = {
    io,
    version: VERSION,
    ...(runsFromBundle ? { workerUrl: new URL(import.meta.url) } : {}),
  };
  for (const register of COMMANDS) register(program, context);
  tagFailures(program);
  return program;
}

/** A CommanderError with the command that raised it, so the message can point to its help. */
interface TaggedError extends CommanderError {
  commandPath?: string;
}

/** Makes every command's parse failures carry its path, such as 'generate trivial'. */
function tagFailures(command: Command, path: string[] = []): void {
  command.exitOverride((error: TaggedError) => {
    error.commandPath = path.join(' ');
    throw error;
  });
  for (const child of command.commands) tagFailures(child, [...path, child.name()]);
}

function registerInspect(program: Command, context: CommandContext): void {
  program
    .command('inspect')
    .description('print the layers of a network with output shapes, parameters and FLOPs')
    .argument('[arguments...]', 'a .net file or catalogue network, then its options')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', `\n${INSPECT_USAGE}`)
    .action((args: string[]) => {
      const status = runInspect(args, context.io);
      if (status !== 0) throw new CommanderError(status, 'clinicadl.inspect', '');
    });
}

/**
 * Runs the program on `argv` (the arguments after the program name) and returns the exit
 * status. Log records go to io.stderr while it runs; the log level and sink are restored after.
 */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const previousLevel = getLogLevel();
  const previousSink = setLogSink((level, scope, message) =>
    io.stderr.write(`[${level}] ${scope}: ${message}\n`),
  );
  try {
    await createProgram(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    return reportFailure(error, io);
  } finally {
    setLogLevel(previousLevel);
    setLogSink(previousSink);
  }
}

/** Writes the one-line message of a failure and returns its exit status (see file header). */
export function reportFailure(error: unknown, io: CliIO): number {
  if (error instanceof CommanderError) {
    // Help, version, and inspect's own failures have already been written.
    if (error.message !== '' && !isDisplayed(error.code)) {
      const path = [PROGRAM_NAME, (error as TaggedError).commandPath].filter(Boolean).join(' ');
      io.stderr.write(`${oneLine(error.message).replace(/\.$/, '')}; see '${path} --help'\n`);
    }
    return error.exitCode === 0 ? 0 : 1;
  }
  if (error instanceof UserError) {
    io.stderr.write(`error: ${oneLine(error.message)}\n`);
    return 1;
  }
  if (error instanceof CommandInterrupted) return INTERRUPTED_STATUS;
  const failure = error instanceof Error ? error : new Error(String(error));
  io.stderr.write(`internal error: ${failure.message}\n`);
  if (isLogEnabled('debug')) io.stderr.write(`${failure.stack ?? ''}\n`);
  else io.stderr.write('Run again with --log-level debug to see the stack.\n');
  return 2;
}

const DISPLAYED_CODES = new Set([
  'commander.helpDisplayed',
  'commander.help',
  'commander.version',
  'clinicadl.inspect',
]);

function isDisplayed(code: string): boolean {
  return DISPLAYED_CODES.has(code);
}

/** Joins commander's message and its "(Did you mean ...?)" line into one line. */
function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
}

// ---- Entry points ----

/** Serves WorkerPool tasks when the bundle is loaded as a worker thread (see file header). */
async function serveAsWorker(): Promise<void> {
  const [{ serveWorker }, { readNifti }] = await Promise.all([
    import('../data/wasm/worker-core.js'),
    import('../data/nifti/node.js'),
  ]);
  const port = parentPort!;
  serveWorker(
    {
      post: (message, transfer = []) => port.postMessage(message, transfer as never[]),
      listen: (handler) => port.on('message', handler),
    },
    (path) => readNifti(path),
  );
}

if (!isMainThread && runsFromBundle && parentPort !== null) {
  await serveAsWorker();
} else if (
  isMainThread &&
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(process.argv[1]).href
) {
  ignoreClosedPipe();
  process.exitCode = await main(process.argv.slice(2), process);
}

/** Ends quietly when stdout's reader exits early, as in `clinicadl-webgpu --help | head`. */
export function ignoreClosedPipe(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}
