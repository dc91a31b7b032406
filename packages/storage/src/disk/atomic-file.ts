import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export function tempPath(tmpDir: string): string {
  return join(tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}.tmp`);
}

/**
 * Renames into place, creating the parent directory. A concurrent delete may prune the freshly created
 * (still empty) parent between mkdir and rename, so retry a few times on ENOENT.
 */
export async function renameIntoPlace(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await mkdir(dirname(to), { recursive: true });
    try {
      await rename(from, to);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw error;
    }
  }
}

export interface WrittenTemp {
  path: string;
  size: number;
  /** Inode of the written file; it stays the same after rename, which lets sidecars name their object. */
  ino: number;
}

/** Streams `source` into a new temp file and fsyncs it. On failure the temp file is removed. */
export async function writeTemp(tmpDir: string, source: Readable): Promise<WrittenTemp> {
  await mkdir(tmpDir, { recursive: true });
  const path = tempPath(tmpDir);
  try {
    await pipeline(source, createWriteStream(path, { flags: 'wx' }));
    const handle = await open(path, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const info = await stat(path);
    return { path, size: info.size, ino: info.ino };
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
}

/**
 * Writes a small file (JSON sidecars) atomically: temp file, then rename over the target.
 * With createParent false a missing parent directory fails with ENOENT instead of being recreated.
 */
export async function writeSmallFileAtomically(
  tmpDir: string,
  to: string,
  content: string,
  { createParent = true }: { createParent?: boolean } = {},
): Promise<void> {
  await mkdir(tmpDir, { recursive: true });
  const path = tempPath(tmpDir);
  try {
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await (createParent ? renameIntoPlace(path, to) : rename(path, to));
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
}
