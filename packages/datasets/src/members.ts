import { ArchiveError } from './errors.ts';
import { ByteReader } from './archive/byte-reader.ts';
import { readArchive, sniffArchive, SNIFF_BYTES } from './archive/index.ts';
import { readBounded } from './bytes.ts';
import type { DatasetLimits } from './limits.ts';
import { isJunkPath, labelOf, normaliseMemberPath } from './paths.ts';

/** One uploaded object; `open` may be called once. Archives are expanded, other files are members. */
export interface InputFile {
  path: string;
  size: number;
  open(): Promise<AsyncIterable<Uint8Array>>;
}

/** A file of the dataset: an uploaded file, or one entry of an uploaded archive. */
export type Member =
  | { ok: true; path: string; label: string | undefined; archive?: string; bytes: Buffer }
  | { ok: false; path: string; archive?: string; size: number; sha256: string; reason: 'too_large' | 'unsafe_path' | 'unsupported_type'; detail: string };

/**
 * Expands the uploaded files into dataset members, in a deterministic order: input order, and
 * archive order inside each archive. Holds one member in memory at a time.
 * The class label is the top-level folder of the path relative to the upload, or relative to the
 * archive for archive members (so `animals.zip` holding `cats/1.png` labels it `cats`).
 * Refused archives throw `ArchiveError`.
 */
export async function* expandFiles(files: AsyncIterable<InputFile> | Iterable<InputFile>, limits: DatasetLimits): AsyncGenerator<Member> {
  for await (const file of files) {
    let path: string;
    try {
      path = normaliseMemberPath(file.path);
    } catch (error) {
      yield { ok: false, path: file.path, size: file.size, sha256: '', reason: 'unsafe_path', detail: (error as Error).message };
      continue;
    }
    if (isJunkPath(path)) continue;
    const reader = ByteReader.from(await file.open());
    try {
      const kind = sniffArchive(await reader.peek(SNIFF_BYTES));
      if (kind === 'unsupported-archive') {
        const read = await readBounded(reader.rest(), 0);
        yield { ok: false, path, size: file.size, sha256: read.ok ? '' : read.sha256, reason: 'unsupported_type', detail: 'only .zip, .tar and .tar.gz archives are expanded' };
        continue;
      }
      if (kind) {
        yield* expandArchive(path, reader, kind, limits);
        continue;
      }
      const read = await readBounded(reader.rest(), limits.maxFileBytes);
      if (read.ok) yield { ok: true, path, label: labelOf(path), bytes: read.bytes };
      else yield { ok: false, path, size: read.size, sha256: read.sha256, reason: 'too_large', detail: `${read.size} bytes is over maxFileBytes=${limits.maxFileBytes}` };
    } finally {
      await reader.close();
    }
  }
}

async function* expandArchive(archive: string, reader: ByteReader, format: 'zip' | 'tar' | 'tar.gz', limits: DatasetLimits): AsyncGenerator<Member> {
  for await (const entry of readArchive(reader.rest(), { limits, format })) {
    // The archive guard already enforces maxFileBytes on this entry while it expands.
    const read = await readBounded(entry.stream, limits.maxFileBytes);
    if (!read.ok) throw new ArchiveError('file_too_large', `archive entry "${entry.path}" is over maxFileBytes=${limits.maxFileBytes}`);
    if (sniffArchive(read.bytes.subarray(0, SNIFF_BYTES))) {
      throw new ArchiveError('nested_archive', `archive entry "${entry.path}" in "${archive}" is itself an archive; nested archives are not allowed`, {
        entry: entry.path,
      });
    }
    yield { ok: true, path: `${archive}/${entry.path}`, label: labelOf(entry.path), archive, bytes: read.bytes };
  }
}
