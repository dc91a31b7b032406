import type { Readable } from 'node:stream';
import { Readable as ReadableStream } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { ArchiveError } from '../errors.ts';
import type { DatasetLimits } from '../limits.ts';
import { ByteReader } from './byte-reader.ts';
import { EntryStream } from './entry-stream.ts';
import { ArchiveGuard } from './guard.ts';
import { readTar } from './tar.ts';
import type { RawEntry } from './types.ts';
import { readZip } from './zip.ts';

export { ArchiveGuard, EntryMeter, type EntryKind } from './guard.ts';
export { ByteReader } from './byte-reader.ts';

export type ArchiveFormat = 'zip' | 'tar' | 'tar.gz';
/** What magic bytes say a buffer is, among archive formats (including ones we do not expand). */
export type SniffedArchive = ArchiveFormat | 'unsupported-archive';

export interface ArchiveEntry {
  /** Normalised member path: relative, `/`-separated, no `.`/`..` segments. */
  path: string;
  /** Size from the header, or null when a zip entry states it only after its data. */
  size: number | null;
  /** The member's bytes. Read it (or not) before asking for the next entry; leftovers are skipped. */
  stream: Readable;
}

/** Bytes needed by `sniffArchive` (the tar magic sits at offset 257). */
export const SNIFF_BYTES = 512;

export function sniffArchive(head: Uint8Array): SniffedArchive | null {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5 || b[2] === 7)) return 'zip';
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'tar.gz';
  if (b.length >= 262 && b.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  const magic = b.subarray(0, 6).toString('latin1');
  if (
    magic.startsWith('7z\xbc\xaf') ||
    magic.startsWith('Rar!') ||
    magic.startsWith('BZh') ||
    magic.startsWith('\xfd7zXZ')
  ) {
    return 'unsupported-archive';
  }
  if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'unsupported-archive'; // zstd
  return null;
}

export interface ReadArchiveOptions {
  limits: DatasetLimits;
  /** Skip sniffing when the caller already knows the format. */
  format?: ArchiveFormat;
}

/**
 * Expands a .zip, .tar or .tar.gz from a stream, one entry at a time, in archive order, without
 * buffering the archive. Refuses unsafe or oversized archives by throwing an `ArchiveError` whose
 * `code` names the problem and whose `details.limit` names the limit crossed. A throw can come after
 * some entries were yielded (limits are enforced on the bytes as they expand): treat it as a refusal
 * of the whole archive.
 */
export async function* readArchive(
  source: AsyncIterable<Uint8Array>,
  options: ReadArchiveOptions,
): AsyncGenerator<ArchiveEntry> {
  const raw = ByteReader.from(source);
  let gunzip: zlib.Gunzip | null = null;
  try {
    const format = options.format ?? (await detect(raw));
    let parser: AsyncGenerator<RawEntry>;
    if (format === 'tar.gz') {
      let compressedRead = 0;
      const counted = (async function* () {
        for await (const chunk of raw.rest()) {
          compressedRead += chunk.length;
          yield chunk;
        }
      })();
      gunzip = zlib.createGunzip();
      // pipeline (not pipe) so a failing source destroys gunzip, and reading it throws instead of hanging.
      pipeline(ReadableStream.from(counted), gunzip).catch(() => undefined);
      const inflated = ByteReader.from(mapGunzipErrors(gunzip));
      parser = readTar(inflated, new ArchiveGuard(options.limits, () => compressedRead));
    } else {
      const guard = new ArchiveGuard(options.limits, () => raw.position);
      parser = format === 'zip' ? readZip(raw, guard) : readTar(raw, guard);
    }
    for await (const entry of parser) {
      const exposed = new EntryStream(entry.body);
      yield { path: entry.path, size: entry.size, stream: exposed.readable };
      await exposed.settle();
    }
  } finally {
    gunzip?.destroy();
    await raw.close();
  }
}

async function detect(reader: ByteReader): Promise<ArchiveFormat> {
  const sniffed = sniffArchive(await reader.peek(SNIFF_BYTES));
  if (sniffed === null || sniffed === 'unsupported-archive') {
    throw new ArchiveError('unsupported_entry', 'not a .zip, .tar or .tar.gz archive');
  }
  return sniffed;
}

async function* mapGunzipErrors(gunzip: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* gunzip;
  } catch (error) {
    if (error instanceof ArchiveError) throw error;
    throw new ArchiveError('corrupt_archive', `gzip stream is corrupt: ${(error as Error).message}`);
  }
}
