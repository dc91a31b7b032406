/**
 * Limits that bound what one dataset preparation may read, expand and decode.
 * The apps map their env onto this object; the library never reads env itself.
 */
export interface DatasetLimits {
  /** Largest single member (an image, a caption, or an archive entry), in bytes. */
  maxFileBytes: number;
  /** Largest total of bytes expanded out of one archive (the sum of its members' sizes). */
  maxArchiveExpandedBytes: number;
  /** Most entries (files, folders and metadata entries) one archive may contain. */
  maxEntries: number;
  /** Highest allowed expanded/compressed ratio, per entry and for a whole archive. */
  maxCompressionRatio: number;
  /** Largest decoded image, in pixels (width × height). */
  maxImagePixels: number;
  /** Largest caption (`foo.txt` beside `foo.png`), in bytes. */
  maxCaptionBytes: number;
}

export const DEFAULT_DATASET_LIMITS: Readonly<DatasetLimits> = Object.freeze({
  maxFileBytes: 50 * 1024 * 1024,
  maxArchiveExpandedBytes: 4 * 1024 * 1024 * 1024,
  maxEntries: 200_000,
  maxCompressionRatio: 100,
  maxImagePixels: 40_000_000,
  maxCaptionBytes: 16 * 1024,
});

/**
 * Ratios are only judged once an entry (or the archive) has expanded past this many bytes:
 * a 2 KiB caption of repeated spaces legitimately compresses 50–200×, and is harmless.
 */
export const RATIO_CHECK_FLOOR_BYTES = 1024 * 1024;

/** Fills unspecified fields with defaults and rejects nonsense with a message naming the field. */
export function resolveLimits(partial: Partial<DatasetLimits> = {}): DatasetLimits {
  const limits: DatasetLimits = { ...DEFAULT_DATASET_LIMITS };
  for (const [key, value] of Object.entries(partial) as [keyof DatasetLimits, number | undefined][]) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_DATASET_LIMITS)) throw new RangeError(`unknown dataset limit "${key}"`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`dataset limit ${key} must be a positive number, got ${String(value)}`);
    }
    limits[key] = value;
  }
  return limits;
}
