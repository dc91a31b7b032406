import { setImmediate as nextTurn } from 'node:timers/promises';
import zlib from 'node:zlib';
import { ArchiveError } from '../errors.ts';
import type { ByteReader } from './byte-reader.ts';
import type { ArchiveGuard, EntryKind, EntryMeter } from './guard.ts';
import type { RawEntry } from './types.ts';

const LOCAL_FILE = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
const CENTRAL_FILE = 0x02014b50;
const END_OF_CENTRAL = 0x06054b50;
const ZIP64_END = 0x06064b50;
const U32_MAX = 0xffffffff;
/** Compressed bytes fed to the inflater at a time: bounds the output produced before a limit check. */
const INFLATE_SLICE = 16 * 1024;

interface LocalRecord {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
}

/**
 * Streaming zip reader: walks local file headers front to back, so the zip never has to be on disk
 * or in memory. Entries whose sizes sit in a trailing data descriptor (flag bit 3, what macOS and
 * streaming zippers write) are supported for deflate, whose stream marks its own end.
 * At the end, the central directory is read and cross-checked against the local headers: it is the
 * only place a zip records unix modes, so symlinks (and headers that disagree) are refused there —
 * after earlier entries were already yielded, which is why a caller must treat a throw at any point
 * as "the whole archive is refused".
 */
export async function* readZip(reader: ByteReader, guard: ArchiveGuard): AsyncGenerator<RawEntry> {
  const seen: LocalRecord[] = [];
  for (;;) {
    const signature = (await reader.readExact(4, 'a zip signature')).readUInt32LE(0);
    if (signature === LOCAL_FILE) {
      const record = await readLocalEntry(reader, guard, seen);
      if (record) yield record;
      continue;
    }
    if (signature === CENTRAL_FILE) {
      await checkCentralDirectory(reader, seen);
      return;
    }
    if (signature === END_OF_CENTRAL) {
      if (seen.length > 0) throw new ArchiveError('corrupt_archive', 'zip has entries but no central directory');
      return;
    }
    if (signature === DATA_DESCRIPTOR && reader.position === 4) continue; // "spanned archive" marker, single disk
    throw new ArchiveError(
      'corrupt_archive',
      `unexpected zip signature 0x${signature.toString(16)} at byte ${reader.position - 4}`,
    );
  }
}

async function readLocalEntry(reader: ByteReader, guard: ArchiveGuard, seen: LocalRecord[]): Promise<RawEntry | null> {
  const header = await reader.readExact(26, 'a zip local header');
  const flags = header.readUInt16LE(2);
  const method = header.readUInt16LE(4);
  const crc = header.readUInt32LE(10);
  let compressedSize = header.readUInt32LE(14);
  let size = header.readUInt32LE(18);
  const nameLength = header.readUInt16LE(22);
  const extraLength = header.readUInt16LE(24);
  const nameBytes = await reader.readExact(nameLength, 'a zip entry name');
  const extra = await reader.readExact(extraLength, 'a zip extra field');
  const name = flags & 0x800 ? nameBytes.toString('utf8') : nameBytes.toString('latin1');
  const zip64 = readZip64Extra(extra, size === U32_MAX, compressedSize === U32_MAX);
  if (zip64.size !== undefined) size = zip64.size;
  if (zip64.compressedSize !== undefined) compressedSize = zip64.compressedSize;
  const hasDescriptor = (flags & 0x8) !== 0;

  const kind: EntryKind = name.endsWith('/') || name.endsWith('\\') ? 'directory' : 'file';
  const path = guard.admit(name, kind, hasDescriptor ? null : size);
  if (flags & 0x1) throw new ArchiveError('encrypted_entry', `zip entry "${name}" is encrypted`, { entry: name });
  if (method !== 0 && method !== 8) {
    throw new ArchiveError(
      'unsupported_entry',
      `zip entry "${name}" uses compression method ${method}; only stored and deflate are supported`,
      {
        entry: name,
      },
    );
  }
  if (method === 0 && hasDescriptor) {
    // A stored entry with its size only after the data cannot be delimited without the central directory.
    throw new ArchiveError(
      'unsupported_entry',
      `zip entry "${name}" is stored with a trailing data descriptor; re-create the zip`,
      {
        entry: name,
      },
    );
  }

  const record: LocalRecord = { name, method, crc, compressedSize, size };
  seen.push(record);
  const meter = path === null ? null : guard.meter(path, hasDescriptor ? null : size);
  const body = entryBody(reader, record, hasDescriptor, zip64.present, meter);
  if (path === null) {
    for await (const _ of body); // skipped (folder or junk): still walk past its data
    return null;
  }
  return { path, size: hasDescriptor ? null : size, body };
}

async function* entryBody(
  reader: ByteReader,
  record: LocalRecord,
  hasDescriptor: boolean,
  zip64: boolean,
  meter: EntryMeter | null,
): AsyncGenerator<Buffer> {
  let crc = 0;
  let produced = 0;
  let consumed: number;
  const onOutput = (chunk: Buffer) => {
    produced += chunk.length;
    crc = zlib.crc32(chunk, crc);
    meter?.add(chunk.length);
  };
  if (record.method === 0) {
    let left = record.compressedSize;
    while (left > 0) {
      const chunk = await reader.readUpTo(Math.min(left, 64 * 1024));
      if (!chunk) throw new ArchiveError('truncated_archive', `zip ends inside entry "${record.name}"`);
      left -= chunk.length;
      if (meter) meter.compressed += chunk.length;
      onOutput(chunk);
      yield chunk;
    }
    consumed = record.compressedSize;
  } else {
    consumed = yield* inflate(reader, record, hasDescriptor ? null : record.compressedSize, meter, onOutput);
  }

  if (hasDescriptor) {
    const first = await reader.readExact(4, 'a zip data descriptor');
    const rest = await reader.readExact(zip64 ? 16 : 8, 'a zip data descriptor');
    let fields = Buffer.concat([first, rest]);
    if (first.readUInt32LE(0) === DATA_DESCRIPTOR)
      fields = Buffer.concat([rest, await reader.readExact(4, 'a zip data descriptor')]);
    record.crc = fields.readUInt32LE(0);
    record.compressedSize = zip64 ? Number(fields.readBigUInt64LE(4)) : fields.readUInt32LE(4);
    record.size = zip64 ? Number(fields.readBigUInt64LE(12)) : fields.readUInt32LE(8);
  }
  if (record.compressedSize !== consumed || record.size !== produced) {
    throw new ArchiveError(
      'size_mismatch',
      `zip entry "${record.name}" declares ${record.size} bytes (${record.compressedSize} compressed) but holds ${produced} (${consumed} compressed)`,
      { entry: record.name },
    );
  }
  if (crc >>> 0 !== record.crc) {
    throw new ArchiveError('corrupt_archive', `zip entry "${record.name}" fails its CRC-32 check`, {
      entry: record.name,
    });
  }
  meter?.finish();
}

/**
 * Inflates one deflate stream from the reader. With an unknown compressed size the deflate stream's
 * own end marker delimits the entry; zlib's `bytesWritten` tells how much input it consumed, and the
 * bytes it did not consume go back to the reader. Returns the compressed byte count.
 */
async function* inflate(
  reader: ByteReader,
  record: LocalRecord,
  knownCompressedSize: number | null,
  meter: EntryMeter | null,
  onOutput: (chunk: Buffer) => void,
): AsyncGenerator<Buffer, number> {
  const inflater = zlib.createInflateRaw();
  const output: Buffer[] = [];
  let ended = false;
  let failure: Error | null = null;
  // Set by the inflater's callbacks: read through a function, so no narrowing from this scope hides the change.
  const throwIfFailed = () => {
    if (failure) throw failure;
  };
  let fed = 0;
  inflater.on('data', (chunk: Buffer) => {
    if (failure) return;
    try {
      // Limits are checked as output appears, so a bomb is stopped within one zlib chunk.
      if (meter) meter.compressed = fed;
      onOutput(chunk);
      output.push(chunk);
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      inflater.destroy();
    }
  });
  inflater.on('end', () => (ended = true));
  inflater.on('error', (error) => {
    failure ??= new ArchiveError(
      'corrupt_archive',
      `zip entry "${record.name}" is not valid deflate data: ${error.message}`,
      {
        entry: record.name,
      },
    );
  });
  let last: Buffer | null = null;
  try {
    while (!ended) {
      const room = knownCompressedSize === null ? INFLATE_SLICE : Math.min(INFLATE_SLICE, knownCompressedSize - fed);
      if (room === 0) {
        inflater.end();
      } else {
        last = await reader.readUpTo(room);
        if (!last)
          throw new ArchiveError('truncated_archive', `zip ends inside entry "${record.name}"`, { entry: record.name });
        fed += last.length;
        await new Promise<void>((resolve) => inflater.write(last, () => resolve()));
      }
      // Let zlib's 'data' / 'end' / 'error' events for this slice arrive before judging the state.
      await nextTurn();
      if (room === 0 && !ended && !failure) await new Promise<void>((resolve) => inflater.once('close', resolve));
      throwIfFailed();
      while (output.length > 0) yield output.shift()!;
      if (room === 0 && !ended) {
        throw new ArchiveError('corrupt_archive', `zip entry "${record.name}" has an unterminated deflate stream`, {
          entry: record.name,
        });
      }
    }
  } finally {
    inflater.destroy();
  }
  const consumed = inflater.bytesWritten;
  const unconsumed = fed - consumed;
  if (unconsumed > 0 && last) reader.unshift(last.subarray(last.length - unconsumed));
  if (meter) meter.compressed = consumed;
  return consumed;
}

function readZip64Extra(
  extra: Buffer,
  needSize: boolean,
  needCompressed: boolean,
): { present: boolean; size?: number; compressedSize?: number } {
  let offset = 0;
  while (offset + 4 <= extra.length) {
    const id = extra.readUInt16LE(offset);
    const length = extra.readUInt16LE(offset + 2);
    if (id === 0x0001) {
      const field = extra.subarray(offset + 4, offset + 4 + length);
      let at = 0;
      const result: { present: boolean; size?: number; compressedSize?: number } = { present: true };
      // The zip64 field lists only the values whose 32-bit header field is 0xFFFFFFFF, size first.
      if (needSize && at + 8 <= field.length) {
        result.size = Number(field.readBigUInt64LE(at));
        at += 8;
      }
      if (needCompressed && at + 8 <= field.length) result.compressedSize = Number(field.readBigUInt64LE(at));
      return result;
    }
    offset += 4 + length;
  }
  return { present: false };
}

/** Reads the central directory and refuses links, special files and headers that disagree with it. */
async function checkCentralDirectory(reader: ByteReader, seen: LocalRecord[]): Promise<void> {
  let index = 0;
  let signature = CENTRAL_FILE;
  while (signature === CENTRAL_FILE) {
    const header = await reader.readExact(42, 'a zip central directory header');
    const madeBy = header.readUInt16LE(0) >> 8;
    const crc = header.readUInt32LE(12);
    const nameLength = header.readUInt16LE(24);
    const extraLength = header.readUInt16LE(26);
    const commentLength = header.readUInt16LE(28);
    const externalAttributes = header.readUInt32LE(34);
    const nameBytes = await reader.readExact(nameLength, 'a zip central directory name');
    await reader.skip(extraLength + commentLength, 'a zip central directory extra field');
    const local = seen[index];
    const name = local && nameBytes.equals(Buffer.from(local.name, 'utf8')) ? local.name : nameBytes.toString('utf8');
    if (!local || local.name !== name || local.crc >>> 0 !== crc) {
      throw new ArchiveError(
        'corrupt_archive',
        `zip central directory entry ${index} ("${name}") does not match the local header ("${local?.name ?? 'none'}")`,
        { entry: name },
      );
    }
    const unixMode = madeBy === 3 ? externalAttributes >>> 16 : 0;
    const type = unixMode & 0o170000;
    if (type === 0o120000)
      throw new ArchiveError('link_entry', `zip entry "${name}" is a symlink; links are not allowed`, { entry: name });
    if (type !== 0 && type !== 0o100000 && type !== 0o040000) {
      throw new ArchiveError('special_entry', `zip entry "${name}" is a device, FIFO or other special file`, {
        entry: name,
      });
    }
    index += 1;
    signature = (await reader.readExact(4, 'a zip signature')).readUInt32LE(0);
  }
  if (index !== seen.length) {
    throw new ArchiveError(
      'corrupt_archive',
      `zip central directory lists ${index} entries but the archive holds ${seen.length}`,
    );
  }
  if (signature !== END_OF_CENTRAL && signature !== ZIP64_END) {
    throw new ArchiveError(
      'corrupt_archive',
      `unexpected zip signature 0x${signature.toString(16)} after the central directory`,
    );
  }
}
