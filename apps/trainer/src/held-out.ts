import { createHash } from 'node:crypto';
import { seededRandom, ShardReader, toFloatImages, type DatasetManifest } from '@dapple/datasets';

/**
 * The fixed held-out split of a dataset version: images no run on the version trains on, scored every
 * heldOutEvery steps. Picked from a seed derived from the shards' hashes, so every run on the same version (Glow
 * or DDPM, any seed) holds out the same images and their held-out bits/dim compare; at most a fifth of the
 * dataset is held out, so a small dataset still trains on most of it.
 */
export interface HeldOutSplit {
  /** Derived from the version's shard hashes. */
  seed: number;
  count: number;
  /** Held-out sample indices within each shard. */
  byShard: Map<string, Set<number>>;
  /** Global indices (shards in manifest order), sorted: what a checkpoint records. */
  indices: number[];
}

export function heldOutSplit(manifest: DatasetManifest, requested: number): HeldOutSplit {
  const total = manifest.counts.accepted;
  const count = Math.max(0, Math.min(requested, Math.floor(total / 5)));
  const digest = createHash('sha256')
    .update(manifest.shards.map((s) => s.sha256).join(','))
    .digest();
  const seed = digest.readUInt32LE(0) >>> 1;
  const order = Array.from({ length: total }, (_, i) => i);
  const random = seededRandom(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const indices = order.slice(0, count).sort((a, b) => a - b);
  const byShard = new Map<string, Set<number>>();
  let start = 0;
  let k = 0;
  for (const shard of manifest.shards) {
    const end = start + shard.count;
    while (k < indices.length && indices[k]! < end) {
      let set = byShard.get(shard.name);
      if (!set) byShard.set(shard.name, (set = new Set()));
      set.add(indices[k]! - start);
      k++;
    }
    start = end;
  }
  return { seed, count, byShard, indices };
}

export function isHeldOut(split: HeldOutSplit, shard: string, index: number): boolean {
  return split.byShard.get(shard)?.has(index) ?? false;
}

/** The held-out images in [-1, 1] (NHWC float32) with their labels, in manifest order. */
export async function loadHeldOut(
  manifest: DatasetManifest,
  split: HeldOutSplit,
  open: (shard: string) => Promise<Uint8Array>,
): Promise<{ images: Float32Array; labels: Int32Array; count: number }> {
  if (split.count === 0) return { images: new Float32Array(0), labels: new Int32Array(0), count: 0 };
  const held = { ...manifest, shards: manifest.shards.filter((s) => split.byShard.has(s.name)) };
  const reader = new ShardReader({
    manifest: held,
    batchSize: split.count,
    shuffle: false,
    epochs: 1,
    filter: (shard, i) => isHeldOut(split, shard, i),
    open: async (name) => {
      const bytes = await open(name);
      return (async function* () {
        yield bytes;
      })();
    },
  });
  for await (const batch of reader) {
    if (batch.size !== split.count)
      throw new Error(`held-out split: read ${batch.size} images, expected ${split.count}`);
    return { images: toFloatImages(batch.images), labels: batch.labels, count: batch.size };
  }
  throw new Error('held-out split: no images read');
}
