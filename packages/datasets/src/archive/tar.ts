import { ArchiveError } from '../errors.ts';
import type { ByteReader } from './byte-reader.ts';
import type { ArchiveGuard, EntryKind } from './guard.ts';
import type { RawEntry } from './types.ts';

const BLOCK = 512;
/** pax and GNU long-name records are metadata; anything bigger than this is not a path. */
const MAX_METADATA_BYTES = 64 * 1024;

/**
 * Streaming tar reader (ustar, pax `x` headers, GNU long names). Links, devices and FIFOs are
 * refused; `g` (global pax) headers are skipped; unknown entry types are refused.
 */
export async function* readTar(reader: ByteReader, guard: ArchiveGuard): AsyncGenerator<RawEntry> {
  let pending: { path?: string; size?: number } = {};
  for (;;) {
    const header = await reader.readUpTo(BLOCK).then(async (first) => {
      if (!first) return null;
      if (first.length === BLOCK) return first;
      return Buffer.concat([first, await reader.readExact(BLOCK - first.length, 'a tar header')]);
    });
    if (!header || header.every((byte) => byte === 0)) return; // end-of-archive marker (or a bare EOF)
    verifyChecksum(header);

    const type = String.fromCharCode(header[156]!);
    let size = parseNumber(header.subarray(124, 136), 'size');
    if (pending.size !== undefined) size = pending.size;
    const padded = Math.ceil(size / BLOCK) * BLOCK;

    if (type === 'x' || type === 'L' || type === 'g' || type === 'K') {
      guard.admit('', 'metadata', null);
      if (size > MAX_METADATA_BYTES) {
        throw new ArchiveError('corrupt_archive', `tar metadata record of ${size} bytes exceeds ${MAX_METADATA_BYTES}`);
      }
      const data = (await reader.readExact(padded, 'a tar metadata record')).subarray(0, size);
      if (type === 'x') pending = { ...pending, ...parsePax(data) };
      if (type === 'L') pending.path = data.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }

    const path = pending.path ?? ustarPath(header);
    pending = {};
    const kind = entryKind(type, path);
    const normalised = guard.admit(path, kind, kind === 'file' ? size : null);
    const meter = normalised === null ? null : guard.meter(normalised, size);
    const body = (async function* () {
      let left = size;
      while (left > 0) {
        const chunk = await reader.readUpTo(Math.min(left, 64 * 1024));
        if (!chunk) throw new ArchiveError('truncated_archive', `tar ends inside entry "${path}"`, { entry: path });
        left -= chunk.length;
        if (meter) {
          meter.compressed += chunk.length;
          meter.add(chunk.length);
        }
        yield chunk;
      }
      await reader.skip(padded - size, 'tar padding');
      meter?.finish();
    })();
    if (normalised === null) {
      for await (const _ of body); // folders and junk: walk past their data
      continue;
    }
    yield { path: normalised, size, body };
  }
}

function entryKind(type: string, path: string): EntryKind {
  switch (type) {
    case '0':
    case '\0':
    case '7':
      return path.endsWith('/') ? 'directory' : 'file';
    case '5':
      return 'directory';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
    case '4':
    case '6':
      return 'special';
    default:
      throw new ArchiveError('unsupported_entry', `tar entry "${path}" has unsupported type "${type}"`, {
        entry: path,
      });
  }
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? bytes.length : end).toString('utf8');
}

function ustarPath(header: Buffer): string {
  const name = cString(header.subarray(0, 100));
  const isUstar = header.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = isUstar ? cString(header.subarray(345, 500)) : '';
  return prefix ? `${prefix}/${name}` : name;
}

/** Octal (NUL/space terminated) or GNU base-256 (high bit set). */
function parseNumber(field: Buffer, what: string): number {
  if (field[0]! & 0x80) {
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    return value;
  }
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text))
    throw new ArchiveError('corrupt_archive', `tar header has an invalid ${what} field "${text}"`);
  return parseInt(text, 8);
}

function verifyChecksum(header: Buffer): void {
  const stored = parseNumber(header.subarray(148, 156), 'checksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
  if (sum !== stored)
    throw new ArchiveError('corrupt_archive', 'tar header checksum mismatch (not a tar file, or corrupt)');
}

function parsePax(data: Buffer): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) break;
    const length = parseInt(data.subarray(offset, space).toString('latin1'), 10);
    if (!Number.isFinite(length) || length <= 0)
      throw new ArchiveError('corrupt_archive', 'tar pax header has an invalid record length');
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    const key = record.slice(0, equals);
    const value = record.slice(equals + 1);
    if (key === 'path') out.path = value;
    if (key === 'size') out.size = Number(value);
    offset += length;
  }
  return out;
}
