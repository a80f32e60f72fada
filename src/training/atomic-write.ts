// Writes a file so that a crash or a kill never leaves a partly written file under its name:
// the bytes go to a temporary file in the same folder, are flushed to disk, and the file is
// then renamed over the target, which POSIX file systems do atomically. Node only: the modules
// come from node-builtins.ts, so importing this file does not stop a browser bundle.

import { nodeCrypto, nodeFsPromises, nodePath } from './node-builtins.js';

const PURPOSE = 'Writing a file on disk';

/** Writes `chunks` to `path` atomically; the temporary file is removed on failure. */
export async function writeFileAtomic(
  path: string,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<void> {
  const { open, rename, rm } = nodeFsPromises(PURPOSE);
  const { basename, dirname, join } = nodePath(PURPOSE);
  const suffix = `${process.pid}.${nodeCrypto(PURPOSE).randomBytes(4).toString('hex')}.tmp`;
  const temporary = join(dirname(path), `.${basename(path)}.${suffix}`);
  try {
    const handle = await open(temporary, 'wx');
    try {
      for await (const chunk of chunks) await handle.write(chunk);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
