// `clinicadl-webgpu inspect <file.net | CatalogueName> [--set name=value ...]`: elaborates a
// network and prints one row per layer (path, ops, output shape, params, FLOPs per sample),
// then `Total params: N` and `Total FLOPs: N`. A user's mistake prints diagnostics and
// returns 1; other failures are thrown to the caller.

import { existsSync } from 'node:fs';
import { catalogueNetworks, nodeHost } from '../dsl/catalogue.js';
import { compileNetFile, type CompiledNetwork } from '../dsl/compile.js';
import { DslError } from '../dsl/diagnostics.js';
import { UserError } from '../errors.js';
import { formatShape } from '../graph/ir.js';
import { closestName } from '../graph/suggest.js';
import { summarise } from '../graph/summary.js';

/** Anything with a `write` method, such as process.stdout. */
export interface Writer {
  write(text: string): unknown;
}

export interface InspectIO {
  stdout: Writer;
  stderr: Writer;
}

export const INSPECT_USAGE = [
  'Usage: clinicadl-webgpu inspect <file.net | CatalogueName> [options]',
  '',
  'Prints the layers of a network with output shapes, parameters and forward FLOPs per sample.',
  '',
  'Options:',
  '  --set name=value   set a network parameter; the value is written as in .net files,',
  '                     for example --set inShape=[1,64,64,64] --set act=gelu (repeatable)',
  '  --network Name     the network to build when the file declares several',
  '  -h, --help         show this help',
].join('\n');

interface InspectRequest {
  target: string;
  set: string[];
  network?: string;
}

function parseArgs(args: readonly string[]): InspectRequest | 'help' {
  const set: string[] = [];
  const positional: string[] = [];
  let network: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg === '--set' || arg === '--network') {
      const value = args[++i];
      if (value === undefined) throw new UserError(`${arg} needs a value; see --help`);
      if (arg === '--set') set.push(value);
      else network = value;
    } else if (arg.startsWith('--set=')) {
      set.push(arg.slice('--set='.length));
    } else if (arg.startsWith('--network=')) {
      network = arg.slice('--network='.length);
    } else if (arg.startsWith('-')) {
      const hint = closestName(arg, ['--set', '--network', '--help']);
      throw new UserError(`unknown option '${arg}'${hint ? `; did you mean '${hint}'?` : ''}`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 1) {
    throw new UserError(`inspect takes one .net file or catalogue name, got ${positional.length}`);
  }
  return network === undefined
    ? { target: positional[0]!, set }
    : { target: positional[0]!, set, network };
}

/** Resolves a path to a .net file, or a catalogue network name to its file. */
function resolveTarget(request: InspectRequest): { file: string; network?: string } {
  if (request.target.endsWith('.net') || existsSync(request.target)) {
    return request.network === undefined
      ? { file: request.target }
      : { file: request.target, network: request.network };
  }
  const catalogue = catalogueNetworks();
  const file = catalogue.get(request.target);
  if (file === undefined) {
    const hint = closestName(request.target, catalogue.keys());
    throw new UserError(
      `'${request.target}' is neither a .net file nor a catalogue network` +
        (hint
          ? `; did you mean '${hint}'?`
          : `; catalogue networks: ${[...catalogue.keys()].join(', ')}`),
    );
  }
  return { file, network: request.target };
}

/**
 * Rounds a count to an integer and writes it in full digits. A number of 1e21 or more prints
 * in exponent notation, so the digits come from a BigInt.
 */
function integerText(value: number, grouped = false): string {
  if (!Number.isFinite(value)) return String(value);
  const integer = BigInt(Math.round(value));
  return grouped ? integer.toLocaleString('en-US') : integer.toString();
}

/** Writes a count with thousands separators, as the table shows it. */
function formatCount(value: number): string {
  return integerText(value, true);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const rightAligned = new Set([2, 3, 4]);
  const line = (row: string[]) =>
    row
      .map((cell, column) =>
        rightAligned.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

/** Formats the layer table and totals of a compiled network. */
export function formatInspection(compiled: CompiledNetwork, file: string): string {
  const { graph, network } = compiled;
  const summary = summarise(graph);
  const perSample = (flops: number) => flops / summary.batchSize;
  const rows = [['Layer', 'Ops', 'Output shape', 'Params', 'FLOPs']];
  for (const row of summary.rows) {
    rows.push([
      row.scope || '(top)',
      row.ops.join(', '),
      formatShape(row.outputShape),
      formatCount(row.params),
      formatCount(perSample(row.flops)),
    ]);
  }
  const inputs = graph.inputs.map(({ name, value }) => `${name} ${formatShape(value.shape)}`);
  const outputs = graph.outputs.map(({ name, value }) => `${name} ${formatShape(value.shape)}`);
  return [
    `Network ${network.name} (${file})`,
    `Inputs: ${inputs.join(', ')}`,
    `Outputs: ${outputs.join(', ')}`,
    '',
    table(rows),
    '',
    // The totals keep plain digits because scripts read them as `Total FLOPs: N`.
    `Total params: ${integerText(summary.totalParams)}`,
    `Total FLOPs: ${integerText(summary.flopsPerSample)}`,
    '',
  ].join('\n');
}

/** Runs the inspect command; returns the exit status (0, or 1 for a user's mistake). */
export function runInspect(args: readonly string[], io: InspectIO): number {
  try {
    const request = parseArgs(args);
    if (request === 'help') {
      io.stdout.write(`${INSPECT_USAGE}\n`);
      return 0;
    }
    const target = resolveTarget(request);
    const compiled = compileNetFile(nodeHost, target.file, {
      network: target.network,
      set: request.set,
    });
    io.stdout.write(formatInspection(compiled, target.file));
    return 0;
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    // A DslError's message already starts each diagnostic with "file:line:column: error:".
    const prefix = error instanceof DslError ? '' : 'error: ';
    io.stderr.write(`${prefix}${error.message}\n`);
    return 1;
  }
}
