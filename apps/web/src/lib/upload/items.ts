import {
  filesSentIn,
  isArchivePath,
  MAX_PACK_BYTES,
  MAX_PACKED_FILE_BYTES,
  planUploadItems,
  type UploadItem,
} from '@dapple/contracts/upload-pack';
import type { PickedFile } from './pick-files';
import { contentTypeOf } from './plan';
import { bodyPieces, prefetchSmallFiles, readBody, type BodyPiece, type CrcCache, type ReadCache } from './read-ahead';
import type { PartTarget } from './send-parts';

/**
 * What one upload sends: the picked files grouped into upload items (archives as they are, everything else in
 * packs: stored zips for folders of small files, tar otherwise; see @dapple/contracts/upload-pack for why).
 */
export interface PreparedUpload {
  items: UploadItem[];
  /**
   * One per item, by item index: the file itself, or the pack's name and size (what a resume record
   * fingerprints). Not a Blob of the pack: Chromium's Blob constructor costs ~0.2 ms per part on the main
   * thread, 2 s for a pack of 5,000 files, and what is sent is partBody's anyway.
   */
  blobs: ItemFile[];
  /** One per item, by item index: what its bytes are made of (what a part's body is read from). */
  pieces: BodyPiece[][];
  /** Small files read ahead of sending (prefetch fills it, partBody empties it). */
  cache: ReadCache;
  /** CRC-32s of the files in zip packs (prefetch and partBody fill it). */
  crcs: CrcCache;
  /** How many picked files the upload carries. */
  sourceCount: number;
}

/** What is known of an upload item without its bytes. */
export type ItemFile = Pick<File, 'name' | 'size' | 'lastModified'>;

/**
 * A small folder (up to PIPELINE_MAX_BYTES to pack) goes as packs of PIPELINE_PACK_BYTES, so that a pack's PUT starts
 * as soon as its own files are read while the next pack's files are still being read. Reading is what costs:
 * Chromium spends ~0.7 ms of CPU per picked file however it is read (measured on 5,000 files of 600 B: ~2.6 CPU-s in
 * the browser process and ~1 in the renderer, alike for Blob-of-100 reads, per-file arrayBuffer, FileReader or a
 * worker), several times what sending the same bytes costs. But each request costs too (the proxy, the hub's checks,
 * an fsync per object): on the upload bench under load 20, ten packs of 350 KB took 2.5 s to PUT where one of
 * 3.5 MB took 0.9 s, hence packs of megabytes. A larger folder's packs are multipart uploads whose parts already go
 * as soon as they are read: not split.
 */
export const PIPELINE_PACK_BYTES = 2 * 1024 ** 2;
/** Folders with more bytes to pack than this (the hub's default multipart threshold) are not split. */
export const PIPELINE_MAX_BYTES = 16 * 1024 ** 2;

/** The largest pack for these sources (see PIPELINE_PACK_BYTES). */
export function pipelinePackBytes(sources: readonly { path: string; size: number }[]): number {
  let packable = 0;
  for (const s of sources) if (!isArchivePath(s.path) && s.size <= MAX_PACKED_FILE_BYTES) packable += s.size;
  return packable > PIPELINE_MAX_BYTES ? MAX_PACK_BYTES : PIPELINE_PACK_BYTES;
}

/** Where an upload's time goes, as performance marks (the upload bench reads them; so can DevTools). */
export const UPLOAD_MARK = 'dapple-upload:';

/** Starts reading the upload's small files into memory (call when the files are picked; see read-ahead.ts). */
export function prefetch(prepared: PreparedUpload): void {
  const zipped = prepared.items.some((item) => item.kind === 'pack' && item.format === 'zip');
  void prefetchSmallFiles(
    prepared.pieces.flat().flatMap((piece) => (piece.kind === 'file' ? [piece.file] : [])),
    prepared.cache,
    undefined,
    zipped ? prepared.crcs : undefined,
  ).then(() => performance.mark(`${UPLOAD_MARK}read-ahead done`));
}

/** A part's body: its byte range of the item, small files read into memory first (see read-ahead.ts). */
export async function partBody(prepared: PreparedUpload, part: PartTarget): Promise<Blob> {
  const pieces = prepared.pieces[part.fileIndex];
  if (!pieces) throw new Error(`No upload item ${part.fileIndex}`);
  const body = await readBody(pieces, part.start, part.size, prepared.cache, prepared.crcs);
  performance.mark(`${UPLOAD_MARK}body ${part.fileIndex}.${part.partNumber}`);
  return body;
}

/**
 * Groups the picked files into upload items. Nothing is read here (prefetch starts that). The same files in the
 * same order give the same bytes (a resumed upload depends on it).
 */
export function prepareUpload(picked: readonly PickedFile[]): PreparedUpload {
  const sources = picked.map((p) => ({ path: p.path, size: p.file.size, mtimeMs: p.file.lastModified }));
  const items = planUploadItems(sources, { zipSmallFiles: true, maxPackBytes: pipelinePackBytes(sources) });
  const blobs = items.map((item): ItemFile =>
    item.kind === 'file' ? picked[item.index]!.file : { name: item.path, size: item.size, lastModified: 0 },
  );
  const pieces = items.map((item) =>
    item.kind === 'file'
      ? bodyPieces([{ kind: 'file', index: item.index, size: item.size }], (i) => picked[i]!)
      : bodyPieces(item.layout.pieces, (i) => picked[i]!),
  );
  return { items, blobs, pieces, cache: new Map(), crcs: new Map(), sourceCount: picked.length };
}

const packType = (format: 'tar' | 'zip') => (format === 'zip' ? 'application/zip' : 'application/x-tar');

/** The createUpload declaration of the items. */
export function declareItems(prepared: PreparedUpload, picked: readonly PickedFile[]) {
  return prepared.items.map((item) =>
    item.kind === 'pack'
      ? { path: item.path, size: item.size, contentType: packType(item.format), pack: true }
      : { path: item.path, size: item.size, contentType: contentTypeOf(picked[item.index]!.file) },
  );
}

/** Picked files wholly sent, from the byte ranges of each item that the store accepted. */
export function countFilesSent(
  prepared: PreparedUpload,
  sentRanges: ReadonlyMap<number, readonly { start: number; end: number }[]>,
): number {
  let count = 0;
  prepared.items.forEach((item, index) => {
    const ranges = sentRanges.get(index) ?? [];
    if (item.kind === 'pack') count += filesSentIn(item.layout, ranges);
    else if (ranges.reduce((sum, r) => sum + (r.end - r.start), 0) >= item.size) count += 1;
  });
  return count;
}

/** How an item is listed: a file by its path, a pack by what it holds. */
export function describeItem(item: UploadItem): string {
  return item.kind === 'pack' ? `${item.path} (a pack of ${item.indexes.length.toLocaleString('en')})` : item.path;
}
