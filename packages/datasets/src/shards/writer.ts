import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { encodeShardHeader, shardName, SHARD_HEADER_BYTES } from './format.ts';

export interface ShardInfo {
  name: string;
  count: number;
  bytes: number;
  sha256: string;
}

export interface ShardWriterOptions {
  height: number;
  width: number;
  channels: number;
  /** Roll to a new shard before a shard would exceed this many bytes (default 32 MiB). */
  maxShardBytes?: number;
  /** Roll to a new shard after this many samples (default: no count limit). */
  maxShardSamples?: number;
  /** Receives each finished shard as a stream of known size; the writer waits for it before reusing memory. */
  write(name: string, data: Readable, size: number): Promise<void>;
}

export const DEFAULT_MAX_SHARD_BYTES = 32 * 1024 * 1024;

/** Labels are copied out of an Int32Array as is, which is little-endian only on little-endian hosts. */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Packs samples into shards. Memory is bounded by one shard: samples are copied into a buffer
 * allocated once, and when the shard is full its header, labels and pixels are hashed (SHA-256)
 * and handed to `write` as one stream, without concatenating them.
 */
export class ShardWriter {
  private readonly sampleBytes: number;
  private readonly capacity: number;
  private pixels: Buffer | null = null;
  private labels: Int32Array;
  private count = 0;
  private readonly shards: ShardInfo[] = [];
  private finished = false;

  constructor(private readonly options: ShardWriterOptions) {
    if (!LITTLE_ENDIAN_HOST) throw new Error('ShardWriter needs a little-endian host (shards are little-endian)');
    this.sampleBytes = options.height * options.width * options.channels;
    const maxBytes = options.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
    const byBytes = Math.floor((maxBytes - SHARD_HEADER_BYTES - 64) / (this.sampleBytes + 4));
    this.capacity = Math.max(1, Math.min(byBytes, options.maxShardSamples ?? Number.MAX_SAFE_INTEGER));
    this.labels = new Int32Array(this.capacity);
  }

  get samplesPerShard(): number {
    return this.capacity;
  }

  async add(pixels: Uint8Array, label: number): Promise<void> {
    if (this.finished) throw new Error('ShardWriter.add after finish');
    if (pixels.length !== this.sampleBytes) {
      throw new RangeError(
        `sample has ${pixels.length} bytes; shards of ${this.options.height}×${this.options.width}×${this.options.channels} need ${this.sampleBytes}`,
      );
    }
    if (!Number.isInteger(label) || label < -1 || label > 0x7fffffff)
      throw new RangeError(`label ${label} is not an int32 ≥ -1`);
    this.pixels ??= Buffer.allocUnsafe(this.capacity * this.sampleBytes);
    this.pixels.set(pixels, this.count * this.sampleBytes);
    this.labels[this.count] = label;
    this.count += 1;
    if (this.count === this.capacity) await this.flush();
  }

  /** Writes the last partial shard and returns every shard written, in order. */
  async finish(): Promise<ShardInfo[]> {
    if (!this.finished) {
      if (this.count > 0) await this.flush();
      this.finished = true;
      this.pixels = null;
    }
    return [...this.shards];
  }

  private async flush(): Promise<void> {
    const { height, width, channels } = this.options;
    const count = this.count;
    const { header, layout } = encodeShardHeader({ count, height, width, channels });
    const labelBlock = Buffer.alloc(layout.pixelsOffset - layout.labelsOffset);
    Buffer.from(this.labels.buffer, 0, count * 4).copy(labelBlock);
    const pixelBlock = this.pixels!.subarray(0, count * this.sampleBytes);
    const sha256 = createHash('sha256').update(header).update(labelBlock).update(pixelBlock).digest('hex');
    const name = shardName(this.shards.length);
    await this.options.write(
      name,
      Readable.from([header, labelBlock, pixelBlock], { objectMode: false }),
      layout.totalBytes,
    );
    this.shards.push({ name, count, bytes: layout.totalBytes, sha256 });
    this.count = 0;
  }
}
