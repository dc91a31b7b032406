import { parseManifest, shardLayout, type DatasetManifest } from '@dapple/datasets';
import type { DatasetVersion } from '@dapple/db';
import type { ObjectStore } from '@dapple/storage';
import { z } from 'zod';
import { badInput } from '../errors.ts';

// An interpolation job (Glow versions): the frames between two images of the dataset version the model was
// trained on. The images are read here, on the hub thread, with one small range read each (a shard holds every
// image at a fixed offset), and handed to a sampling worker as pixels.

export const MIN_INTERPOLATION_FRAMES = 2;
export const MAX_INTERPOLATION_FRAMES = 16;

export const interpolateInput = z.object({
  modelVersionId: z.string(),
  indexA: z.number().int('must be an integer').min(0, 'must be at least 0'),
  indexB: z.number().int('must be an integer').min(0, 'must be at least 0'),
  steps: z
    .number()
    .int('must be an integer')
    .min(MIN_INTERPOLATION_FRAMES, `must be at least ${MIN_INTERPOLATION_FRAMES}`)
    .max(MAX_INTERPOLATION_FRAMES, `must be at most ${MAX_INTERPOLATION_FRAMES}`)
    .default(8),
  shareToken: z.string().nullish(),
});
export type InterpolateInput = z.input<typeof interpolateInput>;

/** Stored in sample_jobs.params of an interpolation job (next to count = steps = frames). */
export interface InterpolationParams {
  datasetVersionId: string;
  indexA: number;
  indexB: number;
  frames: number;
}

/** The ready manifest of a dataset version and the prefix its shards sit under. */
export function readyManifest(version: DatasetVersion): { manifest: DatasetManifest; prefix: string } {
  if (version.status !== 'ready' || !version.manifest || !version.manifestKey)
    throw badInput('modelVersionId', `modelVersionId: its training dataset version is ${version.status}, not ready`);
  const prefix = version.manifestKey.slice(0, version.manifestKey.lastIndexOf('/') + 1);
  return { manifest: parseManifest(version.manifest), prefix };
}

/** BAD_USER_INPUT naming `field` when `index` is past the version's accepted images. */
export function checkImageIndex(manifest: DatasetManifest, field: 'indexA' | 'indexB', index: number): void {
  const total = manifest.shards.reduce((n, s) => n + s.count, 0);
  if (index >= total)
    throw badInput(
      field,
      `${field}: the training dataset version has ${total} images (indices 0–${total - 1}), got ${index}`,
    );
}

/** Accepted image `index` of a dataset version: uint8 HWC pixels, read with one range request. */
export async function readDatasetImage(
  store: ObjectStore,
  manifest: DatasetManifest,
  prefix: string,
  index: number,
): Promise<Uint8Array> {
  const per = manifest.height * manifest.width * manifest.channels;
  let local = index;
  for (const shard of manifest.shards) {
    if (local >= shard.count) {
      local -= shard.count;
      continue;
    }
    const start = shardLayout(shard.count, per).pixelsOffset + local * per;
    const body = await store.get(`${prefix}${shard.name}`, { start, end: start + per - 1 });
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    if (bytes.length !== per) throw new Error(`dataset image ${index}: read ${bytes.length} bytes, expected ${per}`);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  throw new Error(`dataset image ${index} is past the version's shards`);
}
