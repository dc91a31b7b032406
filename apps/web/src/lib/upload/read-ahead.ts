import type { PackPiece } from '@dapple/contracts/upload-pack';
import { crc32, crcBytes } from '@dapple/contracts/upload-zip';
import { PartError } from './send-parts';

// Why packs of small files are read into memory before they are sent: a request body that is a Blob of thousands
// of picked Files makes Chromium open and read them one after another while the request waits (measured here:
// 5,000 files of 600 bytes took 7–10 s to PUT that way, 0.45 s once in memory). Reading them as a few Blobs of
// ~100 Files each, several at once, took 1.1–1.9 s for the same files. Bigger files stay file-backed: for them the
// per-file cost (~1.5 ms) is nothing next to their bytes, while reading them into memory holds up the page — with
// a 1 MiB limit, a folder of 500 files of 600 KB kept the Upload click from reaching its handler for ~10 s (the
// upload bench, load 19–27), as ~256 MB were read on the main thread.

/** Files up to this size are read ahead; larger ones are streamed from disk by the browser. */
export const READ_AHEAD_MAX_FILE_BYTES = 64 * 1024;
/** Files per read (one Blob of them) and bytes per read. */
const GROUP_FILES = 100;
const GROUP_BYTES = 4 * 1024 ** 2;
/** Reads in flight per part (parts themselves go a few at a time: see sendParts). */
const PARALLEL_READS = 8;

/** Bytes of picked small files read before their part is sent (see prefetchSmallFiles); dropped once used. */
export type ReadCache = Map<File, Promise<Uint8Array<ArrayBuffer> | null>>;
/**
 * CRC-32s of picked files, for zip packs (see @dapple/contracts/upload-zip): computed as the files are read ahead,
 * or when a part needs one (reading the file again if its bytes were already sent and dropped). Kept for the
 * whole upload: a zip's central directory, in its last part, repeats every file's CRC.
 */
export type CrcCache = Map<File, Promise<number>>;

/** How much prefetchSmallFiles holds in memory at most (the rest is read when its part is sent). */
export const PREFETCH_MAX_BYTES = 256 * 1024 ** 2;

/**
 * Starts reading the small files of an upload into `cache` as soon as they are picked, so that the bytes are
 * (mostly) in memory by the time the upload has been created and its first part goes out: the reads overlap the
 * createDataset/createUpload round trips and whatever the user does before clicking Upload. A file that cannot be
 * read resolves to null here and is read (and named in the error) when its part is sent. Resolves when every read
 * has ended (nothing waits for it: parts wait for their own files).
 */
export function prefetchSmallFiles(
  files: readonly File[],
  cache: ReadCache,
  maxBytes = PREFETCH_MAX_BYTES,
  crcs?: CrcCache,
): Promise<void> {
  const groups: File[][] = [];
  let group: File[] = [];
  let groupBytes = 0;
  let total = 0;
  for (const file of files) {
    if (file.size > READ_AHEAD_MAX_FILE_BYTES || cache.has(file)) continue;
    if (total + file.size > maxBytes) break;
    total += file.size;
    if (group.length >= GROUP_FILES || (group.length > 0 && groupBytes + file.size > GROUP_BYTES)) {
      groups.push(group);
      group = [];
      groupBytes = 0;
    }
    group.push(file);
    groupBytes += file.size;
  }
  if (group.length) groups.push(group);
  const resolvers = new Map<File, (bytes: Uint8Array<ArrayBuffer> | null) => void>();
  for (const file of groups.flat()) cache.set(file, new Promise((resolve) => resolvers.set(file, resolve)));
  let next = 0;
  const reader = async () => {
    while (next < groups.length) {
      const g = groups[next++]!;
      let buffer: ArrayBuffer | null = null;
      try {
        buffer = await new Blob(g).arrayBuffer();
      } catch {
        // One of them changed since it was picked: readBody reads and names it.
      }
      let at = 0;
      for (const file of g) {
        const bytes = buffer ? new Uint8Array(buffer, at, file.size) : null;
        // While the user finishes the form, not after the click (~10 ms per MB on the main thread). Reading in a
        // worker was tried (one bench run, load 27): the reads then ended ~5 s after createUpload, not ~0.4 s.
        if (bytes && crcs && !crcs.has(file)) crcs.set(file, Promise.resolve(crc32(bytes)));
        resolvers.get(file)!(bytes);
        at += file.size;
      }
    }
  };
  return Promise.all(Array.from({ length: Math.min(PARALLEL_READS, groups.length) }, reader)).then(() => undefined);
}

/**
 * One item's bytes, front to back: bytes made in memory, a picked File (with its upload path, for errors), or the
 * CRC-32 of a picked File (4 bytes, zip packs).
 */
export type BodyPiece =
  | { kind: 'bytes'; bytes: Uint8Array<ArrayBuffer> }
  | { kind: 'file'; file: File; path: string }
  | { kind: 'crc'; file: File; path: string };

export function bodyPieces(pieces: readonly PackPiece[], fileOf: (index: number) => { file: File; path: string }) {
  return pieces.map((piece): BodyPiece =>
    piece.kind === 'bytes'
      ? { kind: 'bytes', bytes: piece.bytes as Uint8Array<ArrayBuffer> }
      : { kind: piece.kind, ...fileOf(piece.index) },
  );
}

const pieceLength = (piece: BodyPiece) =>
  piece.kind === 'bytes' ? piece.bytes.length : piece.kind === 'crc' ? 4 : piece.file.size;

/** The CRC-32 of a picked file: computed while it was read ahead, else from its bytes (cached ones, or read now). */
function crcOf(file: File, path: string, cache: ReadCache | undefined, crcs: CrcCache): Promise<number> {
  let crc = crcs.get(file);
  if (!crc) {
    crc = (async () => {
      const cached = cache?.get(file);
      const bytes = (cached ? await cached : null) ?? new Uint8Array(await readGroup([{ file, path }]));
      return crc32(bytes);
    })();
    crcs.set(file, crc);
    // A file that could not be read is tried again (and named) by the next part that needs it.
    crc.catch(() => crcs.delete(file));
  }
  return crc;
}

/**
 * Bytes `start`..`start + size` of the item made of `pieces`, as a Blob to send: the small files in that range
 * read into memory (in parallel groups), the large ones as slices of their File. Rejects with a PartError naming
 * the file that could not be read (changed or removed since it was picked).
 */
export async function readBody(
  pieces: readonly BodyPiece[],
  start: number,
  size: number,
  cache?: ReadCache,
  crcs: CrcCache = new Map(),
): Promise<Blob> {
  const end = start + size;
  const out: (BlobPart | null)[] = [];
  const pending: { slot: number; file: File; path: string; from: number; to: number }[] = [];
  const checksums: Promise<void>[] = [];
  let offset = 0;
  for (const piece of pieces) {
    const length = pieceLength(piece);
    const from = Math.max(0, start - offset);
    const to = Math.min(length, end - offset);
    offset += length;
    if (to <= from) {
      if (offset >= end) break;
      continue;
    }
    if (piece.kind === 'bytes') out.push(piece.bytes.subarray(from, to));
    else if (piece.kind === 'crc') {
      const slot = out.length;
      out.push(null);
      checksums.push(
        crcOf(piece.file, piece.path, cache, crcs).then((crc) => void (out[slot] = crcBytes(crc).subarray(from, to))),
      );
    } else if (piece.file.size > READ_AHEAD_MAX_FILE_BYTES) out.push(piece.file.slice(from, to));
    else {
      pending.push({ slot: out.length, file: piece.file, path: piece.path, from, to });
      out.push(null);
    }
  }

  // CRCs first: they may need the cached bytes that the next step takes out of the cache.
  await Promise.all(checksums);
  // Files already read ahead: taken from the cache (and dropped from it: the Blob made here holds them now).
  const unread: typeof pending = [];
  await Promise.all(
    pending.map(async (entry) => {
      const cached = cache?.get(entry.file);
      cache?.delete(entry.file);
      const bytes = cached ? await cached : null;
      if (bytes) out[entry.slot] = bytes.subarray(entry.from, entry.to);
      else unread.push(entry);
    }),
  );
  unread.sort((a, b) => a.slot - b.slot);

  const groups: (typeof pending)[] = [];
  let group: typeof pending = [];
  let groupBytes = 0;
  for (const entry of unread) {
    if (group.length >= GROUP_FILES || (group.length > 0 && groupBytes + entry.file.size > GROUP_BYTES)) {
      groups.push(group);
      group = [];
      groupBytes = 0;
    }
    group.push(entry);
    groupBytes += entry.file.size;
  }
  if (group.length) groups.push(group);

  let next = 0;
  const reader = async () => {
    while (next < groups.length) {
      const g = groups[next++]!;
      const buffer = await readGroup(g);
      let at = 0;
      for (const entry of g) {
        out[entry.slot] = new Uint8Array(buffer, at + entry.from, entry.to - entry.from);
        at += entry.file.size;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, groups.length) }, reader));
  return new Blob(joinBytes(out as (Uint8Array<ArrayBuffer> | Blob)[]));
}

/**
 * Runs of in-memory pieces copied into one buffer each: Chromium's Blob constructor takes ~0.2 ms per part on the
 * main thread (2 s for a pack of 5,000 files, i.e. 10,000 parts, measured in the upload bench), a copy of the same
 * bytes a few milliseconds.
 */
function joinBytes(parts: readonly (Uint8Array<ArrayBuffer> | Blob)[]): BlobPart[] {
  const joined: BlobPart[] = [];
  let run: Uint8Array<ArrayBuffer>[] = [];
  const flush = () => {
    if (run.length === 1) joined.push(run[0]!);
    else if (run.length > 1) {
      const buffer = new Uint8Array(run.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of run) {
        buffer.set(p, at);
        at += p.length;
      }
      joined.push(buffer);
    }
    run = [];
  };
  for (const part of parts) {
    if (part instanceof Blob) {
      flush();
      joined.push(part);
    } else run.push(part);
  }
  flush();
  return joined;
}

async function readGroup(entries: readonly { file: File; path: string }[]): Promise<ArrayBuffer> {
  try {
    return await new Blob(entries.map((e) => e.file)).arrayBuffer();
  } catch {
    // Which one? Read them one by one to name it.
    for (const entry of entries) {
      try {
        await entry.file.arrayBuffer();
      } catch {
        throw new PartError(
          `${entry.path} could not be read: it was changed or removed after it was picked; pick the folder again`,
          false,
        );
      }
    }
    throw new PartError('The picked files could not be read; pick them again', false);
  }
}
