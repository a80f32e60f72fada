// Files from the page's pickers and from drag and drop, sorted by what they are: an
// experiment folder (a dropped or picked folder), an experiment zip, or NIfTI volumes.

import type { ModelSource } from './protocol.js';

/** The kind of input a set of picked or dropped files is. */
export type DroppedInput =
  { kind: 'model'; source: ModelSource } | { kind: 'volumes'; files: File[] };

/**
 * Returns the files of a folder chosen with `<input webkitdirectory>`, by path inside the
 * folder: the browser prefixes each webkitRelativePath with the folder's own name.
 */
export function folderSource(files: readonly File[]): ModelSource {
  const first = files[0]?.webkitRelativePath ?? '';
  const name = first.includes('/') ? first.slice(0, first.indexOf('/')) : 'the chosen folder';
  const entries = files.map((file) => {
    const path = file.webkitRelativePath || file.name;
    return { path: path.startsWith(`${name}/`) ? path.slice(name.length + 1) : path, file };
  });
  return { kind: 'files', files: entries, name };
}

/**
 * Sorts dropped items: a folder is an experiment folder, a .zip an experiment zip, and any
 * other file a volume (the worker names a file that is not NIfTI when it reads it).
 */
export async function readDrop(transfer: DataTransfer): Promise<DroppedInput[]> {
  const inputs: DroppedInput[] = [];
  const files: File[] = [];
  const entries = [...transfer.items]
    .map((item) => (item.kind === 'file' ? item.webkitGetAsEntry() : null))
    .filter((entry): entry is FileSystemEntry => entry !== null);
  for (const entry of entries) {
    if (entry.isDirectory) {
      const folder = await readFolder(entry as FileSystemDirectoryEntry, '');
      inputs.push({ kind: 'model', source: { kind: 'files', files: folder, name: entry.name } });
    } else files.push(await entryFile(entry as FileSystemFileEntry));
  }
  // Without entries (some browsers and synthetic drops), fall back to the plain file list.
  if (entries.length === 0) files.push(...transfer.files);
  return [...inputs, ...sortFiles(files)];
}

/** Sorts plain files: each .zip is an experiment zip, and the other files are volumes. */
export function sortFiles(files: readonly File[]): DroppedInput[] {
  const inputs: DroppedInput[] = [];
  const volumes: File[] = [];
  for (const file of files) {
    if (/\.zip$/i.test(file.name)) {
      inputs.push({ kind: 'model', source: { kind: 'zip', file, name: file.name } });
    } else volumes.push(file);
  }
  if (volumes.length > 0) inputs.push({ kind: 'volumes', files: volumes });
  return inputs;
}

async function readFolder(
  folder: FileSystemDirectoryEntry,
  prefix: string,
): Promise<{ path: string; file: Blob }[]> {
  const files: { path: string; file: Blob }[] = [];
  for (const entry of await folderEntries(folder)) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory) {
      files.push(...(await readFolder(entry as FileSystemDirectoryEntry, `${path}/`)));
    } else files.push({ path, file: await entryFile(entry as FileSystemFileEntry) });
  }
  return files;
}

/** Reads every entry of a folder: readEntries returns them in batches until an empty one. */
async function folderEntries(folder: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = folder.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** A volume to run: one NIfTI file, or the .hdr of a pair with its .img. */
export interface VolumeFiles {
  file: File;
  image?: File;
}

/**
 * Groups picked or dropped files into volumes: a .hdr and an .img with the same stem make
 * one volume, and every other file is a volume of its own. An unpaired half is kept, so
 * that reading it names the missing half.
 */
export function pairVolumeFiles(files: readonly File[]): VolumeFiles[] {
  const header = /\.hdr(\.gz)?$/i;
  const image = /\.img(\.gz)?$/i;
  const stem = (name: string) => name.replace(/\.(hdr|img)(\.gz)?$/i, '');
  const paired = new Set<File>();
  const volumes: VolumeFiles[] = [];
  for (const file of files) {
    if (paired.has(file)) continue;
    const partnerPattern = header.test(file.name) ? image : image.test(file.name) ? header : null;
    const partner = files.find(
      (other) =>
        partnerPattern !== null &&
        !paired.has(other) &&
        partnerPattern.test(other.name) &&
        stem(other.name) === stem(file.name),
    );
    if (partner === undefined) {
      volumes.push({ file });
      continue;
    }
    paired.add(file).add(partner);
    volumes.push(
      header.test(file.name) ? { file, image: partner } : { file: partner, image: file },
    );
  }
  return volumes;
}
