export { DEFAULT_DATASET_LIMITS, RATIO_CHECK_FLOOR_BYTES, resolveLimits, type DatasetLimits } from './limits.ts';
export { ArchiveError, ShardIntegrityError, type ArchiveErrorCode } from './errors.ts';
export {
  readArchive,
  sniffArchive,
  SNIFF_BYTES,
  type ArchiveEntry,
  type ArchiveFormat,
  type ReadArchiveOptions,
  type SniffedArchive,
} from './archive/index.ts';
export { captionKey, isCaptionPath, isJunkPath, labelOf, normaliseMemberPath } from './paths.ts';
export {
  ALPHA_BACKGROUND,
  configureSharp,
  processImage,
  sha256,
  sniffImageType,
  type Channels,
  type ImageFormat,
  type ImageRejectReason,
  type ProcessedImage,
  type ProcessImageOptions,
} from './image.ts';
export { makeTile, renderGrid } from './preview.ts';
export {
  thumbnailLocation,
  thumbnailSheetName,
  ThumbnailSheets,
  THUMBNAIL_COLUMNS,
  THUMBNAILS_PER_SHEET,
} from './thumbnails.ts';
export { expandFiles, type InputFile, type Member } from './members.ts';
export {
  prepareDataset,
  type FileRecord,
  type PrepareOptions,
  type PrepareResult,
  type RejectReason,
} from './prepare.ts';
export * from './shards/index.ts';
