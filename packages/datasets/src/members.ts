import { ArchiveError } from './errors.ts';
import { ByteReader } from './archive/byte-reader.ts';
import { readArchive, sniffArchive, SNIFF_BYTES } from './archive/index.ts';
import { readBounded } from './bytes.ts';
import type { DatasetLimits } from './limits.ts';
import { foldersOf, isJunkPath, normaliseMemberPath } from './paths.ts';

/**
 * One uploaded object; `open` is called once and may return a Node Readable, any async iterable of
 * bytes, or an array of Buffers. Archives are expanded, other files are members. `size` is the
 * declared size, used only to budget read-ahead; limits are enforced on the bytes actually read.
 */
export interface InputFile {
  path: string;
  size: number;
  open(): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>>;
  /**
   * An archive the uploader made only to send many files in few requests (the browser's batched upload):
   * its entries are the upload's files under their own paths (`cats/1.png`, not `pack-1.tar/cats/1.png`).
   */
  packed?: boolean;
}

/** A file of the dataset: an uploaded file, or one entry of an uploaded archive. */
export type Member =
  /** folders: relative to the upload, or to the archive for its members (labels come from them: labels.ts). */
  | { ok: true; path: string; folders: string[]; archive?: string; bytes: Buffer }
  | {
      ok: false;
      path: string;
      archive?: string;
      size: number;
      sha256: string;
      reason: 'too_large' | 'unsafe_path' | 'unsupported_type';
      detail: string;
    };

/** Plain files read ahead of decoding, so reads overlap with sharp (which holds the thread pool). */
const READ_AHEAD_FILES = 8;
/** …as long as the files read ahead (by their declared sizes) stay under this many bytes. */
const READ_AHEAD_BYTES = 32 * 1024 * 1024;

type Loaded =
  | { kind: 'member'; member: Member }
  | { kind: 'skip' }
  | { kind: 'archive'; path: string; reader: ByteReader; format: 'zip' | 'tar' | 'tar.gz'; packed: boolean };

/**
 * Expands the uploaded files into dataset members, in a deterministic order: input order, and
 * archive order inside each archive. Plain files are read a few ahead (bounded by count and bytes);
 * archives are expanded one at a time, one member in memory at a time.
 * Each member carries its folders relative to the upload, or relative to the archive for archive members
 * (so `animals.zip` holding `cats/1.png` has folders ['cats']); labels.ts turns them into labels.
 * Refused archives throw `ArchiveError`.
 */
export async function* expandFiles(
  files: AsyncIterable<InputFile> | Iterable<InputFile>,
  limits: DatasetLimits,
): AsyncGenerator<Member> {
  const ahead: { size: number; loaded: Promise<Loaded> }[] = [];
  let aheadBytes = 0;
  const next = async function* (): AsyncGenerator<Member> {
    const { size, loaded } = ahead.shift()!;
    aheadBytes -= size;
    const item = await loaded;
    if (item.kind === 'member') yield item.member;
    if (item.kind === 'archive') {
      try {
        yield* expandArchive(item.path, item.reader, item.format, limits, item.packed);
      } catch (error) {
        // Name the uploaded archive, so the job's error says which upload was refused.
        if (error instanceof ArchiveError && !error.details.archive) {
          throw new ArchiveError(error.code, `${item.path}: ${error.message}`, {
            ...error.details,
            archive: item.path,
          });
        }
        throw error;
      } finally {
        await item.reader.close();
      }
    }
  };
  try {
    for await (const file of files) {
      const size = Math.min(Math.max(0, file.size), limits.maxFileBytes);
      const loaded = load(file, limits);
      loaded.catch(() => undefined); // surfaced in order, when its turn comes
      ahead.push({ size, loaded });
      aheadBytes += size;
      while (ahead.length >= READ_AHEAD_FILES || (ahead.length > 1 && aheadBytes > READ_AHEAD_BYTES)) yield* next();
    }
    while (ahead.length > 0) yield* next();
  } finally {
    // Stopped early (refusal, abort): close what was opened ahead.
    for (const { loaded } of ahead.splice(0)) {
      const item = await loaded.catch(() => null);
      if (item?.kind === 'archive') await item.reader.close();
    }
  }
}

async function load(file: InputFile, limits: DatasetLimits): Promise<Loaded> {
  let path: string;
  try {
    path = normaliseMemberPath(file.path);
  } catch (error) {
    return {
      kind: 'member',
      member: {
        ok: false,
        path: file.path,
        size: file.size,
        sha256: '',
        reason: 'unsafe_path',
        detail: (error as Error).message,
      },
    };
  }
  if (isJunkPath(path)) return { kind: 'skip' };
  const reader = ByteReader.from(await file.open());
  let keepOpen = false;
  try {
    const kind = sniffArchive(await reader.peek(SNIFF_BYTES));
    if (kind === 'unsupported-archive') {
      const read = await readBounded(reader.rest(), 0);
      const detail = 'only .zip, .tar and .tar.gz archives are expanded';
      return {
        kind: 'member',
        member: {
          ok: false,
          path,
          size: file.size,
          sha256: read.ok ? '' : read.sha256,
          reason: 'unsupported_type',
          detail,
        },
      };
    }
    if (kind) {
      keepOpen = true;
      return { kind: 'archive', path, reader, format: kind, packed: file.packed === true };
    }
    const read = await readBounded(reader.rest(), limits.maxFileBytes);
    if (read.ok) return { kind: 'member', member: { ok: true, path, folders: foldersOf(path), bytes: read.bytes } };
    const detail = `${read.size} bytes is over maxFileBytes=${limits.maxFileBytes}`;
    return {
      kind: 'member',
      member: { ok: false, path, size: read.size, sha256: read.sha256, reason: 'too_large', detail },
    };
  } finally {
    if (!keepOpen) await reader.close();
  }
}

async function* expandArchive(
  archive: string,
  reader: ByteReader,
  format: 'zip' | 'tar' | 'tar.gz',
  limits: DatasetLimits,
  packed: boolean,
): AsyncGenerator<Member> {
  for await (const entry of readArchive(reader.rest(), { limits, format })) {
    // The archive guard already enforces maxFileBytes on this entry while it expands.
    const read = await readBounded(entry.stream, limits.maxFileBytes);
    if (!read.ok)
      throw new ArchiveError(
        'file_too_large',
        `archive entry "${entry.path}" is over maxFileBytes=${limits.maxFileBytes}`,
      );
    if (sniffArchive(read.bytes.subarray(0, SNIFF_BYTES))) {
      throw new ArchiveError(
        'nested_archive',
        `archive entry "${entry.path}" in "${archive}" is itself an archive; nested archives are not allowed`,
        {
          entry: entry.path,
        },
      );
    }
    if (packed) yield { ok: true, path: entry.path, folders: foldersOf(entry.path), bytes: read.bytes };
    else
      yield { ok: true, path: `${archive}/${entry.path}`, folders: foldersOf(entry.path), archive, bytes: read.bytes };
  }
}
