// Checks of the output folder that a command writes, made before any work starts: the path must
// be a folder (or not exist yet) that this process can write in. The folder must not be one of
// the command's input folders, such as the dataset. It must also be empty, or contain an
// experiment when the command accepts one, unless the user passes --force.

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

import { UserError } from '../errors.js';
import { resolveCheckpoint } from '../training/checkpoint.js';
import { Maps } from '../training/maps.js';
import { nodeStorage } from '../training/storage-node.js';
import { joinPath } from '../training/storage.js';

/** The contents of an output folder before the command writes to it. */
export type OutputContents =
  /** The folder does not exist, or it contains nothing. */
  | 'empty'
  /** An experiment folder (experiment.json) without report.html: training did not finish. */
  | 'unfinished-experiment'
  /** An experiment folder with report.html, which `train` writes last. */
  | 'finished-experiment'
  /** Files that no experiment wrote. */
  | 'other';

export interface OutputFolderOptions {
  /** Accept a non-empty folder: --force. Default false. */
  force?: boolean;
  /** Accept an experiment folder, finished or not, without --force. Default false. */
  allowExperiment?: boolean;
  /** Input folders that the output folder must be neither equal to nor contain. */
  inputs?: readonly { name: string; path: string }[];
  /** The option that sets the folder, named in messages. Default '--output'. */
  option?: string;
}

/** The files of an experiment folder that `train` writes; `--force` removes only these. */
export const EXPERIMENT_ENTRIES = [
  'experiment.json',
  'train-config.json',
  'report.html',
  'networks',
] as const;

const SPLIT_FOLDER = /^split-\d+$/;

/**
 * Classifies the folder `path` and checks that the command may write there. Creates the folder
 * and writes then removes a probe file in it, so a read-only place fails here with a UserError
 * naming the path, before any work starts. Returns what the folder contained.
 */
export async function prepareOutputFolder(
  path: string,
  options: OutputFolderOptions = {},
): Promise<OutputContents> {
  const option = options.option ?? '--output';
  for (const input of options.inputs ?? []) rejectInputFolder(path, input, option);
  const contents = await inspectOutputFolder(path, option);
  if (contents === 'other' && !options.force) {
    throw new UserError(
      `The output folder ${path} is not empty and contains no experiment (no ` +
        `experiment.json). Choose a new or empty folder for ${option}, or pass --force to ` +
        'write there anyway.',
    );
  }
  const isExperiment = contents !== 'empty' && contents !== 'other';
  if (isExperiment && !options.allowExperiment && !options.force) {
    throw new UserError(
      `The output folder ${path} already contains an experiment. Choose another folder for ` +
        `${option}, or pass --force to replace it.`,
    );
  }
  await checkWritable(path, option);
  return contents;
}

/** Returns what the folder `path` contains; a path that is a file is a UserError. */
export async function inspectOutputFolder(path: string, option = '--output') {
  const entries = await readdir(path).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    if (error.code === 'ENOTDIR') {
      const file = (await fileOnPath(path)) ?? path;
      const where =
        file === resolve(path) ? `The output path ${path}` : `${file}, on the path ${path},`;
      throw new UserError(
        `${where} is a file, not a folder. Give ${option} a folder path (new or empty).`,
      );
    }
    throw new UserError(
      `The output folder ${path} cannot be read (${error.code ?? error.message}). Check its ` +
        `permissions, or give ${option} another folder.`,
    );
  });
  if (entries.length === 0) return 'empty';
  if (!entries.includes('experiment.json')) return 'other';
  return entries.includes('report.html') ? 'finished-experiment' : 'unfinished-experiment';
}

/** Removes the files of the experiment in `path` (EXPERIMENT_ENTRIES, split-<k>/) only. */
export async function removeExperiment(path: string): Promise<void> {
  const entries = await readdir(path);
  const removed = entries.filter(
    (entry) =>
      (EXPERIMENT_ENTRIES as readonly string[]).includes(entry) || SPLIT_FOLDER.test(entry),
  );
  await Promise.all(removed.map((entry) => rm(join(path, entry), { recursive: true })));
}

/** Rejects an output folder that is an input folder or contains one. */
function rejectInputFolder(path: string, input: { name: string; path: string }, option: string) {
  const inside = relative(resolve(path), resolve(input.path));
  const contained = inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside);
  if (contained) {
    throw new UserError(
      `The output folder ${path} is or contains the ${input.name} ${input.path}, which the ` +
        `command would write into. Give ${option} a separate folder.`,
    );
  }
}

/** Creates `path` and writes then removes a probe file in it; throws a UserError otherwise. */
export async function checkWritable(path: string, option: string): Promise<void> {
  const probe = join(path, `.write-check-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(path, { recursive: true });
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const blocker = code === 'EEXIST' || code === 'ENOTDIR' ? await fileOnPath(path) : undefined;
    const reason = blocker ? `${blocker} is a file` : (code ?? message);
    throw new UserError(
      `Cannot write in the output folder ${path} (${reason}). Give ${option} a folder that ` +
        'you can write to.',
    );
  }
}

/** Returns the first part of `path` that exists and is not a folder, if any. */
async function fileOnPath(path: string): Promise<string | undefined> {
  const parts = resolve(path).split(sep);
  for (let end = 2; end <= parts.length; end++) {
    const prefix = parts.slice(0, end).join(sep);
    const info = await stat(prefix).catch(() => undefined);
    if (info === undefined) return undefined;
    if (!info.isDirectory()) return prefix;
  }
  return undefined;
}

/**
 * Returns the state of the last complete checkpoint of split 0 in the experiment folder
 * `path` (its 0-based epoch), or undefined when there is none.
 */
export async function savedCheckpoint(path: string): Promise<{ epoch: number } | undefined> {
  const maps = new Maps(nodeStorage(path), path);
  const folder = await resolveCheckpoint(maps, maps.checkpoint(0));
  if (folder === undefined) return undefined;
  const state = (await maps.readJson(joinPath(folder, 'trainer.json'))) as { epoch?: unknown };
  return typeof state?.epoch === 'number' ? { epoch: state.epoch } : undefined;
}

/**
 * Returns the command line `args` (the arguments after the program name) with --resume added
 * and --force removed, quoted for a POSIX shell.
 */
export function resumeCommand(args: readonly string[]): string {
  const quote = (text: string) =>
    /^[\w./:=@+,-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
  const forwarded = args.filter((arg) => arg !== '--force' && arg !== '--resume');
  return ['clinicadl-webgpu', ...forwarded, '--resume'].map(quote).join(' ');
}
