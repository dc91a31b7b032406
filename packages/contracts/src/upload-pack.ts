// Batched uploads: many small files are sent as a few tar "packs" (createUpload with `pack: true`), so a folder
// of thousands of images costs a handful of requests instead of one signed URL and one PUT per file.
//
// Why tar and not zip: a tar header depends only on the path and the size, so a pack's exact byte length and
// layout are known before any file is read, and the bytes can be handed to the network as slices of the
// original files (a browser Blob of [header, File, padding, …]; a Node stream of file ranges) without passing
// through JavaScript. A zip needs each file's CRC-32 in its headers, which means reading and checksumming every
// byte on the client first. The price is tar's 512-byte blocks: up to ~1 KiB per file, which more than doubles
// a folder of small images; a sender that reads its small files anyway (the dashboard) asks for stored zip packs
// for such folders instead (`zipSmallFiles`, see upload-zip.ts): same layout-before-reading, CRCs filled in.
//
// Pure functions, no Node or DOM APIs: the dashboard and the CLI lay out packs the same way, byte for byte, so
// a resumed upload rebuilds exactly the pack it started.
import { layoutZip, MAX_ZIP_ENTRIES, ZIP_END_BYTES, zipEntryBytes } from './upload-zip.ts';

/** A file to pack: its upload path (`cats/1.png`), exact size and modification time. */
export interface PackSource {
  path: string;
  size: number;
  mtimeMs: number;
}

/**
 * Bytes made here (headers, padding, the end-of-archive blocks), the whole content of source `index`, or (zip
 * packs only) the CRC-32 of source `index` as 4 little-endian bytes, which the sender computes from its content.
 */
export type PackPiece =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'file'; index: number; size: number }
  | { kind: 'crc'; index: number; size: 4 };

export interface PackLayout {
  /** Exact byte length of the tar. */
  size: number;
  /** The tar, front to back. */
  pieces: PackPiece[];
  /** Where each packed source's data lies in the tar, in tar order (for "files sent" counts). */
  ends: { index: number; start: number; end: number }[];
}

/** One upload item: a file sent as it is (an archive, or a lone file), or a pack of several sources. */
export type UploadItem =
  | { kind: 'file'; path: string; size: number; index: number }
  | { kind: 'pack'; format: PackFormat; path: string; size: number; indexes: number[]; layout: PackLayout };

/** tar: bytes known without reading (any sender); zip: far smaller for small files, CRCs read from the files. */
export type PackFormat = 'tar' | 'zip';

export interface PlanOptions {
  /** Largest pack (default MAX_PACK_BYTES). */
  maxPackBytes?: number;
  /**
   * Send the packs as stored zips when tar's headers and padding would add more than ZIP_WHEN_TAR_OVERHEAD of
   * the files' bytes (folders of small files). The sender must then fill in `crc` pieces.
   */
  zipSmallFiles?: boolean;
}

/** Tar overhead (headers + padding over data bytes) above which zipSmallFiles packs as zip. */
export const ZIP_WHEN_TAR_OVERHEAD = 0.05;

const BLOCK = 512;
/** A pack stays under this (well inside the hub's 4 GiB archive limit; a failed pack costs at most this much). */
export const MAX_PACK_BYTES = 1024 ** 3;
/** Archives the hub expands are sent as they are (archives inside a pack would be refused as nested). */
export const ARCHIVE_PATH = /\.(zip|tar|tar\.gz|tgz)$/i;
/** Files this big already go up near the line rate on their own (a request per several MiB): not packed. */
export const MAX_PACKED_FILE_BYTES = 8 * 1024 ** 2;

export function isArchivePath(path: string): boolean {
  return ARCHIVE_PATH.test(path);
}

/**
 * Splits the sources into upload items: archives and large files go as they are, the rest into packs of at most
 * `maxPackBytes` (in source order, so the same sources always give the same items). A single small file is
 * sent as itself: packing it would only add headers.
 */
export function planUploadItems(sources: readonly PackSource[], options: PlanOptions = {}): UploadItem[] {
  const maxPackBytes = options.maxPackBytes ?? MAX_PACK_BYTES;
  const items: UploadItem[] = [];
  const packable: number[] = [];
  sources.forEach((source, index) => {
    if (isArchivePath(source.path) || source.size > MAX_PACKED_FILE_BYTES)
      items.push({ kind: 'file', path: source.path, size: source.size, index });
    else packable.push(index);
  });
  if (packable.length === 1) {
    const index = packable[0]!;
    items.push({ kind: 'file', path: sources[index]!.path, size: sources[index]!.size, index });
    return items;
  }
  const format = options.zipSmallFiles && tarOverhead(sources, packable) > ZIP_WHEN_TAR_OVERHEAD ? 'zip' : 'tar';
  const [costOf, endBytes, maxEntries] =
    format === 'zip' ? [zipEntryBytes, ZIP_END_BYTES, MAX_ZIP_ENTRIES] : [entryBytes, 2 * BLOCK, Infinity];
  let group: number[] = [];
  let groupBytes = 0;
  const flush = () => {
    if (group.length === 0) return;
    const layout = format === 'zip' ? layoutZip(sources, group) : layoutTar(sources, group);
    const number = items.filter((i) => i.kind === 'pack').length + 1;
    const path = packName(number, sources, format);
    items.push({ kind: 'pack', format, path, size: layout.size, indexes: group, layout });
    group = [];
    groupBytes = 0;
  };
  for (const index of packable) {
    const cost = costOf(sources[index]!);
    if (group.length > 0 && (groupBytes + cost + endBytes > maxPackBytes || group.length >= maxEntries)) flush();
    group.push(index);
    groupBytes += cost;
  }
  flush();
  return items;
}

/** Headers and padding a tar of `indexes` would add, over their data bytes. */
function tarOverhead(sources: readonly PackSource[], indexes: readonly number[]): number {
  let data = 0;
  let total = 2 * BLOCK;
  for (const index of indexes) {
    data += sources[index]!.size;
    total += entryBytes(sources[index]!);
  }
  return (total - data) / Math.max(1, data);
}

/** `dapple-pack-1.tar`, numbered on past any source of that name (the hub refuses duplicate paths). */
function packName(number: number, sources: readonly PackSource[], format: PackFormat): string {
  for (let n = number; ; n += 1000) {
    const name = `dapple-pack-${n}.${format}`;
    if (!sources.some((s) => s.path === name)) return name;
  }
}

/** The ustar archive of `indexes` (sources in that order): headers and padding made here, data by reference. */
export function layoutTar(sources: readonly PackSource[], indexes: readonly number[]): PackLayout {
  const pieces: PackPiece[] = [];
  const ends: PackLayout['ends'] = [];
  let offset = 0;
  let pendingPad = 0;
  for (const index of indexes) {
    const source = sources[index]!;
    const header = entryHeader(source);
    const bytes = new Uint8Array(pendingPad + header.length);
    bytes.set(header, pendingPad);
    pieces.push({ kind: 'bytes', bytes });
    offset += bytes.length;
    if (source.size > 0) pieces.push({ kind: 'file', index, size: source.size });
    ends.push({ index, start: offset, end: offset + source.size });
    offset += source.size;
    pendingPad = padding(source.size);
  }
  pieces.push({ kind: 'bytes', bytes: new Uint8Array(pendingPad + 2 * BLOCK) });
  offset += pendingPad + 2 * BLOCK;
  return { size: offset, pieces, ends };
}

/** Bytes one source takes in a tar: header(s), data, padding. */
function entryBytes(source: PackSource): number {
  return entryHeader(source).length + source.size + padding(source.size);
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

const encoder = new TextEncoder();

/** A ustar header; a pax `path` record before it when the path is not plain ASCII of at most 100 bytes. */
function entryHeader(source: PackSource): Uint8Array {
  const ascii = /^[\x20-\x7e]{1,100}$/.test(source.path);
  const mtime = Math.max(0, Math.floor(source.mtimeMs / 1000));
  const main = header(ascii ? source.path : 'pax-path', source.size, '0', mtime);
  if (ascii) return main;
  const record = paxRecord('path', source.path);
  const paxData = new Uint8Array(record.length + padding(record.length));
  paxData.set(record);
  const out = new Uint8Array(BLOCK + paxData.length + BLOCK);
  out.set(header('pax-header', record.length, 'x', mtime), 0);
  out.set(paxData, BLOCK);
  out.set(main, BLOCK + paxData.length);
  return out;
}

/** `"<length> key=value\n"`, where length counts the whole record including its own digits. */
function paxRecord(key: string, value: string): Uint8Array {
  const body = encoder.encode(` ${key}=${value}\n`).length;
  let length = body + String(body).length;
  if (String(length).length !== String(body).length) length = body + String(length).length;
  return encoder.encode(`${length} ${key}=${value}\n`);
}

function header(name: string, size: number, type: string, mtime: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const put = (text: string, at: number) => h.set(encoder.encode(text), at);
  put(name, 0);
  put('0000644\0', 100);
  put('0000000\0', 108);
  put('0000000\0', 116);
  put(`${size.toString(8).padStart(11, '0')}\0`, 124);
  put(`${mtime.toString(8).padStart(11, '0')}\0`, 136);
  put(type, 156);
  put('ustar\0', 257);
  put('00', 263);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

/**
 * How many packed files are wholly sent, given the byte ranges of the pack that arrived (parts, in any order):
 * a file counts once every byte of its data lies in sent ranges.
 */
export function filesSentIn(layout: PackLayout, sentRanges: readonly { start: number; end: number }[]): number {
  const merged: { start: number; end: number }[] = [];
  for (const range of [...sentRanges].sort((a, b) => a.start - b.start)) {
    const last = merged[merged.length - 1];
    if (last && range.start <= last.end) last.end = Math.max(last.end, range.end);
    else merged.push({ ...range });
  }
  let count = 0;
  let r = 0;
  for (const entry of layout.ends) {
    while (r < merged.length && merged[r]!.end < entry.end) r++;
    const range = merged[r];
    if (range && range.start <= entry.start && entry.end <= range.end) count++;
  }
  return count;
}
