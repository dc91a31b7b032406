import { createHash } from 'node:crypto';
import { z } from 'zod';

export const MANIFEST_FORMAT = 'dapple.shards';
export const MANIFEST_VERSION = 1;

const count = z.number().int().nonnegative();
const sha = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256');

export const ShardEntrySchema = z.object({
  name: z.string().regex(/^[\w.-]+\.bin$/, 'a shard file name like shard-00000.bin'),
  count: count,
  bytes: count,
  sha256: sha,
});

export const ManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  formatVersion: z.literal(MANIFEST_VERSION),
  resolution: z.number().int().positive(),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  channels: z.union([z.literal(1), z.literal(3)]),
  layout: z.literal('NHWC'),
  pixelDtype: z.literal('uint8'),
  labelDtype: z.literal('int32'),
  /** How images became training pixels; part of the version hash. */
  transform: z.object({
    resize: z.literal('shorter-side-lanczos3-center-crop'),
    alphaBackground: z.literal('black'),
    colour: z.enum(['srgb', 'luminance']),
  }),
  counts: z.object({
    files: count,
    accepted: count,
    rejected: count,
    rejectedByReason: z.record(z.string(), count),
  }),
  labels: z.object({
    /** Label index i in the shards means names[i]; -1 means no label (the file sat at the root). */
    names: z.array(z.string()),
    histogram: z.array(count),
    unlabeled: count,
    /**
     * When present, the shards store a folder id j and its label is names[shardIds[j]] (-1: none); readers
     * map it (ShardReader does). Written only when folders below the label level (or files above it) exist.
     */
    shardIds: z.array(z.number().int().min(-1)).optional(),
  }),
  /** Per-channel mean and (population) standard deviation of accepted pixels, on the 0–255 scale. */
  stats: z.object({ mean: z.array(z.number()), std: z.array(z.number()) }),
  shards: z.array(ShardEntrySchema),
  /** Thumbnail sheets: accepted image i is tile i % perSheet of sheets[⌊i / perSheet⌋], row-major, `columns` wide. */
  thumbnails: z.object({
    tile: z.number().int().nonnegative(),
    columns: z.number().int().positive(),
    perSheet: z.number().int().positive(),
    sheets: z.array(z.string()),
  }),
  /** Object name of the preview grid (first accepted images), or null when nothing was accepted. */
  preview: z.string().nullable(),
  /** SHA-256 over the shard hashes and the settings that shaped them: same input + settings, same hash. */
  versionHash: sha,
});

export type DatasetManifest = z.infer<typeof ManifestSchema>;
export type ShardEntry = z.infer<typeof ShardEntrySchema>;

/** Parses and validates a manifest (object or JSON text); the error lists every bad field. */
export function parseManifest(input: unknown): DatasetManifest {
  const value = typeof input === 'string' || Buffer.isBuffer(input) ? (JSON.parse(input.toString()) as unknown) : input;
  const result = ManifestSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`invalid dataset manifest: ${problems}`);
  }
  const m = result.data;
  if (m.stats.mean.length !== m.channels || m.stats.std.length !== m.channels)
    throw new Error('invalid dataset manifest: stats need one value per channel');
  if (m.labels.histogram.length !== m.labels.names.length)
    throw new Error('invalid dataset manifest: labels.histogram must match labels.names');
  if (m.labels.shardIds?.some((id) => id >= m.labels.names.length))
    throw new Error('invalid dataset manifest: labels.shardIds must index labels.names');
  const inShards = m.shards.reduce((n, s) => n + s.count, 0);
  if (inShards !== m.counts.accepted)
    throw new Error(
      `invalid dataset manifest: shards hold ${inShards} samples, counts.accepted says ${m.counts.accepted}`,
    );
  return m;
}

type VersionIdentity = Pick<
  DatasetManifest,
  'format' | 'formatVersion' | 'height' | 'width' | 'channels' | 'layout' | 'labelDtype' | 'transform'
> & {
  labels: { names: readonly string[]; shardIds?: readonly number[] | undefined };
  shards: readonly { name: string; count: number; sha256: string }[];
};

/** The version hash covers what the trainer sees (shape, transform, label names, shard bytes), not counts of rejects. */
export function computeVersionHash(m: VersionIdentity): string {
  const identity = {
    format: m.format,
    formatVersion: m.formatVersion,
    shape: [m.height, m.width, m.channels],
    layout: m.layout,
    labelDtype: m.labelDtype,
    transform: m.transform,
    labels: m.labels.names,
    ...(m.labels.shardIds ? { shardIds: m.labels.shardIds } : {}),
    shards: m.shards.map((s) => [s.name, s.count, s.sha256]),
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}

/**
 * Running per-channel mean/std over uint8 HWC pixels. Sums of uint8 values and their squares are
 * integers, exact in float64 up to 2^53 (≈ 10^9 images of 512×512), so the result does not drift.
 */
export class PixelStats {
  private readonly sum: Float64Array;
  private readonly sumSquares: Float64Array;
  private pixels = 0;

  constructor(private readonly channels: number) {
    this.sum = new Float64Array(channels);
    this.sumSquares = new Float64Array(channels);
  }

  add(hwc: Uint8Array): void {
    const c = this.channels;
    // Integer accumulators per call keep the inner loop cheap; one image cannot overflow them.
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      let sq = 0;
      for (let i = ch; i < hwc.length; i += c) {
        const v = hwc[i]!;
        s += v;
        sq += v * v;
      }
      this.sum[ch]! += s;
      this.sumSquares[ch]! += sq;
    }
    this.pixels += hwc.length / c;
  }

  result(): { mean: number[]; std: number[] } {
    const mean: number[] = [];
    const std: number[] = [];
    for (let ch = 0; ch < this.channels; ch++) {
      const m = this.pixels ? this.sum[ch]! / this.pixels : 0;
      mean.push(m);
      std.push(this.pixels ? Math.sqrt(Math.max(0, this.sumSquares[ch]! / this.pixels - m * m)) : 0);
    }
    return { mean, std };
  }
}
