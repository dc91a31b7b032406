import { createHash } from 'node:crypto';
import { ShardIntegrityError } from '../errors.ts';
import { decodeShardHeader } from './format.ts';
import type { DatasetManifest, ShardEntry } from './manifest.ts';
import { epochSeed, seededRandom, shuffleInPlace } from './random.ts';

export interface Batch {
  /** N×H×W×C uint8, NHWC. */
  images: Uint8Array;
  labels: Int32Array;
  size: number;
  epoch: number;
  height: number;
  width: number;
  channels: number;
}

export interface ShardReaderOptions {
  manifest: DatasetManifest;
  /** Opens one shard by its manifest name (e.g. a GET on the object store). */
  open(shardName: string): Promise<AsyncIterable<Uint8Array>>;
  batchSize: number;
  /** Passes over the data; Infinity streams until the consumer stops. Default 1. */
  epochs?: number;
  /** Shuffle shard order and samples (through the shuffle buffer). Default true. */
  shuffle?: boolean;
  seed?: number;
  /** Samples held for shuffling across shard boundaries. Default 2048. */
  shuffleBuffer?: number;
  /** Drop each epoch's last partial batch. Default false. */
  dropLast?: boolean;
  /**
   * Keeps only the samples for which this returns true (a fixed held-out split is read with one predicate and
   * trained without it with the negation); `index` is the sample's position within its shard.
   */
  filter?: (shard: string, index: number) => boolean;
}

interface Sample {
  pixels: Uint8Array;
  label: number;
}

/**
 * Streams a prepared dataset in batches for training. Holds at most two shards (the one being read
 * and the next, prefetched) plus the shuffle buffer. Each shard is verified against its manifest
 * SHA-256 before any of its samples is used, so corrupt data never reaches training.
 */
export class ShardReader implements AsyncIterable<Batch> {
  private readonly sampleBytes: number;

  constructor(private readonly options: ShardReaderOptions) {
    const { manifest, batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    this.sampleBytes = manifest.height * manifest.width * manifest.channels;
  }

  [Symbol.asyncIterator](): AsyncGenerator<Batch> {
    return this.batches();
  }

  async *batches(): AsyncGenerator<Batch> {
    const { manifest, batchSize, dropLast = false } = this.options;
    const epochs = this.options.epochs ?? 1;
    for (let epoch = 0; epoch < epochs; epoch++) {
      let pending: Sample[] = [];
      for await (const sample of this.epochSamples(epoch)) {
        pending.push(sample);
        if (pending.length === batchSize) {
          yield this.toBatch(pending, epoch);
          pending = [];
        }
      }
      if (pending.length > 0 && !dropLast) yield this.toBatch(pending, epoch);
      if (manifest.counts.accepted === 0) return;
    }
  }

  private toBatch(samples: Sample[], epoch: number): Batch {
    const { height, width, channels } = this.options.manifest;
    const images = new Uint8Array(samples.length * this.sampleBytes);
    const labels = new Int32Array(samples.length);
    samples.forEach((s, i) => {
      images.set(s.pixels, i * this.sampleBytes);
      labels[i] = s.label;
    });
    return { images, labels, size: samples.length, epoch, height, width, channels };
  }

  private async *epochSamples(epoch: number): AsyncGenerator<Sample> {
    const { manifest, shuffle = true, seed = 0 } = this.options;
    const random = seededRandom(epochSeed(seed, epoch));
    const order = shuffle ? shuffleInPlace([...manifest.shards], random) : manifest.shards;
    const bufferSize = shuffle ? Math.max(1, this.options.shuffleBuffer ?? 2048) : 0;
    const buffer: Sample[] = [];
    let next = order[0] ? this.loadShard(order[0]) : null;
    for (let i = 0; i < order.length; i++) {
      const current = await next!;
      next = order[i + 1] ? this.loadShard(order[i + 1]!) : null;
      next?.catch(() => undefined); // surfaced when awaited; avoid an unhandled rejection meanwhile
      for (const sample of current) {
        if (bufferSize === 0) {
          yield sample;
          continue;
        }
        if (buffer.length < bufferSize) {
          buffer.push(sample);
          continue;
        }
        const j = Math.floor(random() * bufferSize);
        const out = buffer[j]!;
        buffer[j] = sample;
        yield out;
      }
    }
    shuffleInPlace(buffer, random);
    yield* buffer;
  }

  /** Reads one whole shard (bounded by its manifest size), verifies it, and copies out its samples. */
  private async loadShard(entry: ShardEntry): Promise<Sample[]> {
    const { manifest } = this.options;
    const bytes = Buffer.allocUnsafe(entry.bytes);
    const hash = createHash('sha256');
    let filled = 0;
    for await (const chunk of await this.options.open(entry.name)) {
      if (filled + chunk.length > entry.bytes) {
        throw new ShardIntegrityError(
          entry.name,
          `${entry.name} is longer than the ${entry.bytes} bytes the manifest lists`,
        );
      }
      bytes.set(chunk, filled);
      hash.update(chunk);
      filled += chunk.length;
    }
    if (filled !== entry.bytes) {
      throw new ShardIntegrityError(entry.name, `${entry.name} has ${filled} bytes; the manifest lists ${entry.bytes}`);
    }
    const actual = hash.digest('hex');
    if (actual !== entry.sha256) {
      throw new ShardIntegrityError(
        entry.name,
        `${entry.name} SHA-256 is ${actual}, the manifest says ${entry.sha256}: the shard is corrupt or was replaced`,
      );
    }
    const header = decodeShardHeader(bytes, entry.name);
    if (
      header.count !== entry.count ||
      header.height !== manifest.height ||
      header.width !== manifest.width ||
      header.channels !== manifest.channels
    ) {
      throw new ShardIntegrityError(
        entry.name,
        `${entry.name} header (${header.count} × ${header.height}×${header.width}×${header.channels}) disagrees with the manifest`,
      );
    }
    const samples: Sample[] = [];
    const shardIds = manifest.labels.shardIds;
    const labelOf = (stored: number) => (shardIds && stored >= 0 ? (shardIds[stored] ?? -1) : stored);
    const keep = this.options.filter;
    for (let i = 0; i < header.count; i++) {
      if (keep && !keep(entry.name, i)) continue;
      const at = header.pixelsOffset + i * this.sampleBytes;
      samples.push({
        // A copy, so a shard's buffer is freed once read even while its samples wait in the shuffle buffer.
        pixels: Uint8Array.prototype.slice.call(bytes, at, at + this.sampleBytes),
        label: labelOf(bytes.readInt32LE(header.labelsOffset + i * 4)),
      });
    }
    return samples;
  }
}

/** Maps uint8 pixels to float32 in [-1, 1] (x / 127.5 − 1), the range diffusion models train on. */
export function toFloatImages(images: Uint8Array, out: Float32Array = new Float32Array(images.length)): Float32Array {
  if (out.length !== images.length)
    throw new RangeError(`output has ${out.length} elements, images have ${images.length}`);
  for (let i = 0; i < images.length; i++) out[i] = images[i]! / 127.5 - 1;
  return out;
}
