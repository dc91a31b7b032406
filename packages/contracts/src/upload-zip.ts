// Zip packs: the compact pack format for folders of small files (see planUploadItems in upload-pack.ts).
//
// Why zip for small files: a tar entry costs a 512-byte header plus padding to 512 bytes, so a pack of 600-byte
// images is 2.6× their bytes (measured on the upload bench); a stored (uncompressed) zip entry costs 30 + 46
// bytes plus its path twice, ~1.2× for the same files. The hub already expands stored zips (packages/datasets
// readZip, which checks every entry's CRC-32 and the central directory against the local headers).
//
// Every byte except the CRC-32s depends only on the paths, sizes and times, so a zip pack's length and layout
// are still known before any file is read (resume and part sizes need that); each entry's CRC is a 4-byte `crc`
// piece the sender fills in from the file's bytes (in its local header, and again in the central directory).
//
// No zip64: a zip pack holds at most MAX_ZIP_ENTRIES files and stays under MAX_PACK_BYTES (well under 4 GiB).
import type { PackLayout, PackPiece, PackSource } from './upload-pack.ts';
import { crc32 } from '@dapple/models/crc32';

/** Entries per zip pack: the entry counts of a zip without zip64 are 16-bit. */
export const MAX_ZIP_ENTRIES = 0xffff;

const LOCAL_HEADER = 30;
const CENTRAL_HEADER = 46;
const END_OF_CENTRAL = 22;
/** Version 1.0 (stored entries, no zip64) made on Unix (so the hub reads the file mode: a regular file). */
const VERSION_NEEDED = 10;
const MADE_BY_UNIX = (3 << 8) | 30;
/** Bit 11: the path is UTF-8. */
const FLAG_UTF8 = 0x800;
const REGULAR_FILE_MODE = 0o100644;

const encoder = new TextEncoder();

/** Bytes one source takes in a zip pack: local header, data, central directory header (paths twice). */
export function zipEntryBytes(source: PackSource): number {
  const name = encoder.encode(source.path).length;
  return LOCAL_HEADER + name + source.size + CENTRAL_HEADER + name;
}

/** Bytes of a zip pack besides its entries. */
export const ZIP_END_BYTES = END_OF_CENTRAL;

/**
 * The stored zip of `indexes` (sources in that order): headers made here, data and CRC-32s by reference
 * (`file` and `crc` pieces the sender fills in).
 */
export function layoutZip(sources: readonly PackSource[], indexes: readonly number[]): PackLayout {
  if (indexes.length > MAX_ZIP_ENTRIES) throw new RangeError(`a zip pack holds at most ${MAX_ZIP_ENTRIES} files`);
  const pieces: PackPiece[] = [];
  const ends: PackLayout['ends'] = [];
  const central: PackPiece[] = [];
  let offset = 0;
  let centralSize = 0;
  for (const index of indexes) {
    const source = sources[index]!;
    const name = encoder.encode(source.path);
    const { time, date } = dosTime(source.mtimeMs);

    // Local header: signature … times | CRC-32 | sizes, name length, no extra field, name.
    const head = new DataView(new ArrayBuffer(14));
    head.setUint32(0, 0x04034b50, true);
    head.setUint16(4, VERSION_NEEDED, true);
    head.setUint16(6, FLAG_UTF8, true);
    head.setUint16(8, 0, true); // stored
    head.setUint16(10, time, true);
    head.setUint16(12, date, true);
    const tail = new Uint8Array(12 + name.length);
    const tailView = new DataView(tail.buffer);
    tailView.setUint32(0, source.size, true);
    tailView.setUint32(4, source.size, true);
    tailView.setUint16(8, name.length, true);
    tailView.setUint16(10, 0, true);
    tail.set(name, 12);
    pieces.push({ kind: 'bytes', bytes: new Uint8Array(head.buffer) }, { kind: 'crc', index, size: 4 });
    pieces.push({ kind: 'bytes', bytes: tail });
    const localOffset = offset;
    offset += LOCAL_HEADER + name.length;
    if (source.size > 0) pieces.push({ kind: 'file', index, size: source.size });
    ends.push({ index, start: offset, end: offset + source.size });
    offset += source.size;

    // Central directory header: signature … times | CRC-32 | sizes … mode, local header offset, name.
    const cHead = new DataView(new ArrayBuffer(16));
    cHead.setUint32(0, 0x02014b50, true);
    cHead.setUint16(4, MADE_BY_UNIX, true);
    cHead.setUint16(6, VERSION_NEEDED, true);
    cHead.setUint16(8, FLAG_UTF8, true);
    cHead.setUint16(10, 0, true);
    cHead.setUint16(12, time, true);
    cHead.setUint16(14, date, true);
    const cTail = new Uint8Array(26 + name.length);
    const cTailView = new DataView(cTail.buffer);
    cTailView.setUint32(0, source.size, true);
    cTailView.setUint32(4, source.size, true);
    cTailView.setUint16(8, name.length, true);
    // extra length, comment length, disk number, internal attributes: 0
    cTailView.setUint32(18, (REGULAR_FILE_MODE << 16) >>> 0, true);
    cTailView.setUint32(22, localOffset, true);
    cTail.set(name, 26);
    central.push({ kind: 'bytes', bytes: new Uint8Array(cHead.buffer) }, { kind: 'crc', index, size: 4 });
    central.push({ kind: 'bytes', bytes: cTail });
    centralSize += CENTRAL_HEADER + name.length;
  }
  const end = new DataView(new ArrayBuffer(END_OF_CENTRAL));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, indexes.length, true);
  end.setUint16(10, indexes.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  pieces.push(...central, { kind: 'bytes', bytes: new Uint8Array(end.buffer) });
  return { size: offset + centralSize + END_OF_CENTRAL, pieces, ends };
}

/** MS-DOS date and time (2-second steps, from 1980) of a modification time, in UTC (so it is the same anywhere). */
function dosTime(mtimeMs: number): { time: number; date: number } {
  const d = new Date(Math.max(mtimeMs, Date.UTC(1980, 0, 1)));
  if (d.getUTCFullYear() > 2107) return { time: 0, date: (127 << 9) | (12 << 5) | 31 };
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

/** CRC-32 (the zip/gzip one) of `bytes`, continuing from `crc` (0 to start): the checkpoint codec's. */
export { crc32 };

/** The 4 bytes a `crc` piece stands for: the CRC-32, little-endian. */
export function crcBytes(crc: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, crc >>> 0, true);
  return out;
}
