import type { DatasetManifest } from '@dapple/datasets';
import type { TrainerClient } from '@dapple/contracts/trainer-client';
import { withRetry } from './hub.ts';

/** Datasets up to this size stay in memory after the first epoch instead of being downloaded every epoch. */
const SHARD_CACHE_MAX_BYTES = 512 * 1024 * 1024;

export class ShardCache {
  private readonly cache = new Map<string, Uint8Array>();
  constructor(
    private readonly totalBytes: number,
    private readonly download: (name: string) => Promise<Uint8Array>,
  ) {}
  async get(name: string): Promise<Uint8Array> {
    const hit = this.cache.get(name);
    if (hit) return hit;
    const bytes = await this.download(name);
    if (this.totalBytes <= SHARD_CACHE_MAX_BYTES) this.cache.set(name, bytes);
    return bytes;
  }

  /** ShardReader's `open`: a shard as one chunk, from the cache or the hub. */
  readonly open = async (name: string): Promise<AsyncIterable<Uint8Array>> => {
    const bytes = await this.get(name);
    return (async function* () {
      yield bytes;
    })();
  };
}

/** The run's shards, downloaded from the hub (and kept in memory when the dataset is small). */
export function hubShardCache(
  manifest: DatasetManifest,
  client: TrainerClient,
  log: (msg: string) => void,
): ShardCache {
  return new ShardCache(
    manifest.shards.reduce((n, sh) => n + sh.bytes, 0),
    async (name) =>
      // A fresh URL per try (they expire), and the whole shard per try: a hub restart or a dropped
      // connection mid-download is retried instead of ending the run. The reader verifies the SHA-256.
      withRetry(
        `downloading ${name}`,
        async () => {
          const target = await client.shardUrl(name);
          const res = await fetch(target.url, { headers: target.headers });
          if (!res.ok) throw new Error(`download of ${name} failed: HTTP ${res.status}`);
          return new Uint8Array(await res.arrayBuffer());
        },
        log,
      ),
  );
}
