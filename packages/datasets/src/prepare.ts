import os from 'node:os';
import type { Readable } from 'node:stream';
import { processImage, sha256, type Channels, type ImageRejectReason } from './image.ts';
import { resolveLimits, type DatasetLimits } from './limits.ts';
import { expandFiles, type InputFile } from './members.ts';
import { OrderedPool, WriteQueue } from './ordered-pool.ts';
import { FolderLabels } from './labels.ts';
import { captionKey, isCaptionPath } from './paths.ts';
import { makeTile, renderGrid } from './preview.ts';
import { THUMBNAIL_COLUMNS, THUMBNAILS_PER_SHEET, ThumbnailSheets } from './thumbnails.ts';
import {
  computeVersionHash,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  parseManifest,
  PixelStats,
  type DatasetManifest,
} from './shards/manifest.ts';
import { ShardWriter } from './shards/writer.ts';

export type RejectReason = ImageRejectReason | 'duplicate' | 'too_large' | 'unsafe_path' | 'orphan_caption';

export interface FileRecord {
  /** Upload path, or `<archive path>/<member path>` for a member of an archive. */
  path: string;
  size: number;
  /** SHA-256 of the original bytes ('' only for an unsafe path, which is never read). */
  sha256: string;
  status: 'accepted' | 'rejected';
  reason?: RejectReason;
  /** Human-readable reason, e.g. which limit was crossed. */
  detail?: string;
  /** For `duplicate`: the path of the first file with the same bytes (the one kept). */
  duplicateOf?: string;
  label?: string;
  caption?: string;
  /** Position of an accepted image in the shards (shard order, then sample order); also its thumbnail name. */
  index?: number;
  archive?: string;
}

export interface PrepareOptions {
  files: AsyncIterable<InputFile> | Iterable<InputFile>;
  resolution: number;
  channels: Channels;
  limits?: Partial<DatasetLimits>;
  /** Stores one object of the version (shards, thumbnails, preview, manifest last). */
  writeObject(name: string, data: Readable | Buffer, size: number): Promise<void>;
  /** done = members finished, total = members found so far (grows while archives expand). */
  onProgress?(done: number, total: number): void;
  signal?: AbortSignal;
  /** Images decoded at once. Default: available cores + 1 (sharp works off the main thread). */
  concurrency?: number;
  /** Thumbnail tile side in px (never above the resolution); 0 writes no thumbnails. Default 64. */
  thumbnailSize?: number;
  /**
   * Images in preview.png. Default 64. With labels the preview has a row per class, ⌊previewCount / classes⌋
   * images each (at least one: every class is shown, up to MAX_PREVIEW_CLASSES).
   */
  previewCount?: number;
  maxShardBytes?: number;
}

export interface PrepareResult {
  manifest: DatasetManifest;
  files: FileRecord[];
}

/** Input bytes held by images queued for decoding or waiting for their turn to be committed. */
const POOL_MAX_INPUT_BYTES = 64 * 1024 * 1024;

type Decoded = {
  record: FileRecord;
  folderId: number;
  result: Awaited<ReturnType<typeof processImage>>;
  tile: Buffer | null;
};

/** Preview tiles held while streaming, over all folders (they are chosen per class once labels are known). */
const MAX_HELD_PREVIEW_TILES = 2048;
/** Classes shown in preview.png at most (one image each beyond previewCount classes). */
const MAX_PREVIEW_CLASSES = 256;

/**
 * The `dataset.prepare` pipeline: expands archives, decodes and validates every image, dedupes by
 * content hash, resizes and crops, and writes `shard-NNNNN.bin`, `thumbs/sheet-NNNNN.webp` (64 thumbnails each),
 * `preview.png` and finally `manifest.json` through `writeObject`. The same input gives the same
 * shards and version hash. A throw (refused archive, abort, failed write) happens before
 * `manifest.json` is written, so a half-written version never has a manifest.
 */
export async function prepareDataset(options: PrepareOptions): Promise<PrepareResult> {
  const { resolution, channels, signal } = options;
  if (!Number.isInteger(resolution) || resolution < 1)
    throw new RangeError(`resolution must be a positive integer, got ${resolution}`);
  if (channels !== 1 && channels !== 3) throw new RangeError(`channels must be 1 or 3, got ${String(channels)}`);
  const limits = resolveLimits(options.limits);
  const tileSize = Math.min(options.thumbnailSize ?? 64, resolution);
  const previewCount = options.previewCount ?? 64;
  /** Preview tiles by folder id (-1: no folder), in order, until the labels are known. */
  const previewTiles = new Map<number, Buffer[]>();
  let heldTiles = 0;
  const records: FileRecord[] = [];
  const captions = new Map<string, { record: FileRecord; text: string }>();
  const firstPathByHash = new Map<string, string>();
  const folders = new FolderLabels();
  /** Accepted images per folder id (index = id); those at the root are counted in `atRoot`. */
  const perFolder: number[] = [];
  const folderOfRecord = new Map<FileRecord, number>();
  let atRoot = 0;
  let accepted = 0;
  let done = 0;
  let found = 0;
  const stats = new PixelStats(channels);
  const writes = new WriteQueue(4);
  const writeBuffer = (name: string, bytes: Buffer) =>
    writes.push(() => options.writeObject(name, bytes, bytes.length));
  const sheets = tileSize > 0 ? new ThumbnailSheets(tileSize, channels, writeBuffer) : null;
  const shards = new ShardWriter({
    height: resolution,
    width: resolution,
    channels,
    maxShardBytes: options.maxShardBytes,
    write: (name, data, size) => options.writeObject(name, data, size),
  });
  const progress = () => options.onProgress?.(done, found);
  const checkAbort = () => {
    if (signal?.aborted) throw signal.reason ?? new Error('dataset preparation aborted');
  };

  const concurrency = options.concurrency ?? os.availableParallelism() + 1;
  const pool = new OrderedPool<Decoded>(
    concurrency,
    async ({ record, folderId, result, tile }) => {
      checkAbort();
      done += 1;
      if (!result.ok) {
        Object.assign(record, { status: 'rejected', reason: result.reason, detail: result.message });
        progress();
        return;
      }
      if (folderId >= 0) {
        while (perFolder.length <= folderId) perFolder.push(0);
        perFolder[folderId]! += 1;
      } else atRoot += 1;
      const index = accepted++;
      Object.assign(record, { status: 'accepted', index });
      // The folder id, not the label: the label level is known only once every path is (labels.ts).
      await shards.add(result.pixels, folderId);
      stats.add(result.pixels);
      if (tile) {
        const held = previewTiles.get(folderId) ?? [];
        if (held.length < previewCount && heldTiles < MAX_HELD_PREVIEW_TILES) {
          held.push(tile);
          previewTiles.set(folderId, held);
          heldTiles += 1;
        }
        await sheets?.add(tile);
      }
      progress();
    },
    concurrency * 4,
    POOL_MAX_INPUT_BYTES,
  );

  try {
    for await (const member of expandFiles(options.files, limits)) {
      checkAbort();
      found += 1;
      if (!member.ok) {
        records.push({
          path: member.path,
          size: member.size,
          sha256: member.sha256,
          status: 'rejected',
          reason: member.reason,
          detail: member.detail,
          archive: member.archive,
        });
        done += 1;
        progress();
        continue;
      }
      const record: FileRecord = {
        path: member.path,
        size: member.bytes.length,
        sha256: sha256(member.bytes),
        status: 'rejected',
        archive: member.archive,
      };
      if (record.archive === undefined) delete record.archive;
      if (isCaptionPath(member.path)) {
        if (member.bytes.length > limits.maxCaptionBytes) {
          records.push({
            ...record,
            reason: 'too_large',
            detail: `caption of ${member.bytes.length} bytes is over maxCaptionBytes=${limits.maxCaptionBytes}`,
          });
        } else {
          captions.set(captionKey(member.path), {
            record: { ...record, status: 'rejected', reason: 'orphan_caption' },
            text: member.bytes.toString('utf8').trim(),
          });
        }
        done += 1;
        continue;
      }
      records.push(record);
      // Every image's record names its label, rejected ones too (a corrupt cats/x.png is a rejected cat).
      const folderId = folders.add(member.folders);
      folderOfRecord.set(record, folderId);
      const firstPath = firstPathByHash.get(record.sha256);
      if (firstPath !== undefined) {
        Object.assign(record, { reason: 'duplicate', duplicateOf: firstPath, detail: `same bytes as ${firstPath}` });
        done += 1;
        progress();
        continue;
      }
      firstPathByHash.set(record.sha256, record.path);
      const bytes = member.bytes;
      await pool.submit(async () => {
        const result = await processImage(bytes, { resolution, channels, maxImagePixels: limits.maxImagePixels });
        const tile = result.ok && tileSize > 0 ? await makeTile(result.pixels, resolution, channels, tileSize) : null;
        return { record, folderId, result, tile };
      }, bytes.length);
    }
    await pool.drain();
    const shardList = await shards.finish();
    const sheetNames = (await sheets?.finish()) ?? [];
    const labels = folders.finish();
    const histogram = labels.names.map(() => 0);
    let unlabeled = atRoot;
    perFolder.forEach((n, id) => {
      const f = labels.finalOf[id]!;
      if (f >= 0) histogram[f]! += n;
      else unlabeled += n;
    });
    for (const [record, id] of folderOfRecord) {
      const label = FolderLabels.nameOf(labels, id);
      if (label !== undefined) record.label = label;
    }
    const preview = previewLayout(labels, previewTiles, previewCount);
    const previewPng = await renderGrid(preview.tiles, tileSize, channels, { columns: preview.columns });
    if (previewPng) await writeBuffer('preview.png', previewPng);
    await writes.drain();

    // Captions pair with images by folder and file stem, wherever they appeared in the upload.
    const imagesByKey = new Map(records.filter((r) => r.status === 'accepted').map((r) => [captionKey(r.path), r]));
    for (const [key, caption] of captions) {
      const image = imagesByKey.get(key);
      if (image) image.caption = caption.text;
      else records.push({ ...caption.record, detail: 'no image with the same name in the same folder' });
    }

    const rejectedByReason: Record<string, number> = {};
    for (const r of records)
      if (r.status === 'rejected') rejectedByReason[r.reason!] = (rejectedByReason[r.reason!] ?? 0) + 1;
    const base = {
      format: MANIFEST_FORMAT,
      formatVersion: MANIFEST_VERSION,
      resolution,
      height: resolution,
      width: resolution,
      channels,
      layout: 'NHWC',
      pixelDtype: 'uint8',
      labelDtype: 'int32',
      transform: {
        resize: 'shorter-side-lanczos3-center-crop',
        alphaBackground: 'black',
        colour: channels === 3 ? 'srgb' : 'luminance',
      },
      counts: { files: records.length, accepted, rejected: records.length - accepted, rejectedByReason },
      labels: {
        names: labels.names,
        histogram,
        unlabeled,
        ...(labels.identity ? {} : { shardIds: labels.finalOf }),
      },
      stats: stats.result(),
      shards: shardList,
      thumbnails: { tile: tileSize, columns: THUMBNAIL_COLUMNS, perSheet: THUMBNAILS_PER_SHEET, sheets: sheetNames },
      preview: previewPng ? 'preview.png' : null,
    } as const;
    const manifest = parseManifest({ ...base, versionHash: computeVersionHash(base) });
    const json = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    checkAbort();
    await options.writeObject('manifest.json', json, json.length);
    options.onProgress?.(found, found);
    return { manifest, files: records };
  } catch (error) {
    await pool.abandon();
    await writes.drain().catch(() => undefined);
    throw error;
  }
}

/**
 * preview.png's tiles: with labels, a row per class (in label order) of ⌊previewCount / classes⌋ images (at
 * least one, so every class shows, up to MAX_PREVIEW_CLASSES; null pads a short row with black); without,
 * the first previewCount images.
 */
function previewLayout(
  labels: { names: string[]; finalOf: number[] },
  byFolder: Map<number, Buffer[]>,
  previewCount: number,
): { tiles: (Buffer | null)[]; columns?: number } {
  if (labels.names.length < 2) {
    const all = [...byFolder.entries()].sort(([a], [b]) => a - b).flatMap(([, tiles]) => tiles);
    return { tiles: all.slice(0, previewCount) };
  }
  const classes = Math.min(labels.names.length, MAX_PREVIEW_CLASSES);
  const perClass = Math.max(1, Math.floor(previewCount / classes));
  const rows: (Buffer | null)[][] = [];
  for (let label = 0; label < classes; label++) {
    const row: (Buffer | null)[] = [];
    labels.finalOf.forEach((f, folder) => {
      if (f === label) for (const t of byFolder.get(folder) ?? []) if (row.length < perClass) row.push(t);
    });
    rows.push(row);
  }
  if (perClass === 1) return { tiles: rows.flat() };
  // As wide as the fullest class (no empty columns when classes are small), short rows padded with black.
  const columns = Math.max(1, ...rows.map((r) => r.length));
  return { tiles: rows.flatMap((r) => [...r, ...new Array<null>(columns - r.length).fill(null)]), columns };
}
