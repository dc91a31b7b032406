import { ShardIntegrityError } from '../errors.ts';

/**
 * Shard file layout (all integers little-endian):
 *
 *   offset  size  field
 *   0       4     magic "DPLS"
 *   4       2     format version (1)
 *   6       2     header size in bytes (64)
 *   8       4     sample count N
 *   12      4     height H
 *   16      4     width W
 *   20      4     channels C (1 or 3)
 *   24      1     label dtype (1 = int32)
 *   25      7     reserved, zero
 *   32      8     labels offset (always 64)
 *   40      8     pixels offset (64 + N×4 rounded up to a multiple of 64)
 *   48      8     total file size
 *   56      8     reserved, zero
 *   labels  N × int32              (label index into manifest.labels.names, -1 = unlabeled)
 *   pixels  N × H × W × C × uint8  (NHWC, contiguous; sample i starts at pixelsOffset + i×H×W×C)
 *
 * Every sample has the same size, so the header's offsets are the whole index: a reader can seek
 * to any sample, or stream labels first and then images one by one.
 */
export const SHARD_MAGIC = 'DPLS';
export const SHARD_VERSION = 1;
export const SHARD_HEADER_BYTES = 64;
export const LABEL_DTYPE_INT32 = 1;

export interface ShardHeader {
  count: number;
  height: number;
  width: number;
  channels: number;
  labelsOffset: number;
  pixelsOffset: number;
  totalBytes: number;
}

export function shardName(index: number): string {
  return `shard-${String(index).padStart(5, '0')}.bin`;
}

export function shardLayout(
  count: number,
  sampleBytes: number,
): { labelsOffset: number; pixelsOffset: number; totalBytes: number } {
  const labelsOffset = SHARD_HEADER_BYTES;
  const pixelsOffset = labelsOffset + Math.ceil((count * 4) / 64) * 64;
  return { labelsOffset, pixelsOffset, totalBytes: pixelsOffset + count * sampleBytes };
}

export function encodeShardHeader(h: Omit<ShardHeader, 'labelsOffset' | 'pixelsOffset' | 'totalBytes'>): {
  header: Buffer;
  layout: ReturnType<typeof shardLayout>;
} {
  const layout = shardLayout(h.count, h.height * h.width * h.channels);
  const header = Buffer.alloc(SHARD_HEADER_BYTES);
  header.write(SHARD_MAGIC, 0, 'latin1');
  header.writeUInt16LE(SHARD_VERSION, 4);
  header.writeUInt16LE(SHARD_HEADER_BYTES, 6);
  header.writeUInt32LE(h.count, 8);
  header.writeUInt32LE(h.height, 12);
  header.writeUInt32LE(h.width, 16);
  header.writeUInt32LE(h.channels, 20);
  header.writeUInt8(LABEL_DTYPE_INT32, 24);
  header.writeBigUInt64LE(BigInt(layout.labelsOffset), 32);
  header.writeBigUInt64LE(BigInt(layout.pixelsOffset), 40);
  header.writeBigUInt64LE(BigInt(layout.totalBytes), 48);
  return { header, layout };
}

export function decodeShardHeader(bytes: Uint8Array, shard: string): ShardHeader {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < SHARD_HEADER_BYTES)
    throw new ShardIntegrityError(shard, `${shard} is ${b.length} bytes, shorter than a shard header`);
  if (b.toString('latin1', 0, 4) !== SHARD_MAGIC)
    throw new ShardIntegrityError(shard, `${shard} does not start with "${SHARD_MAGIC}"`);
  const version = b.readUInt16LE(4);
  if (version !== SHARD_VERSION)
    throw new ShardIntegrityError(shard, `${shard} has format version ${version}; this reader knows ${SHARD_VERSION}`);
  if (b.readUInt8(24) !== LABEL_DTYPE_INT32)
    throw new ShardIntegrityError(shard, `${shard} has an unknown label dtype ${b.readUInt8(24)}`);
  const header: ShardHeader = {
    count: b.readUInt32LE(8),
    height: b.readUInt32LE(12),
    width: b.readUInt32LE(16),
    channels: b.readUInt32LE(20),
    labelsOffset: Number(b.readBigUInt64LE(32)),
    pixelsOffset: Number(b.readBigUInt64LE(40)),
    totalBytes: Number(b.readBigUInt64LE(48)),
  };
  const expected = shardLayout(header.count, header.height * header.width * header.channels);
  if (
    header.labelsOffset !== expected.labelsOffset ||
    header.pixelsOffset !== expected.pixelsOffset ||
    header.totalBytes !== expected.totalBytes
  ) {
    throw new ShardIntegrityError(shard, `${shard} header offsets are inconsistent with its count and shape`);
  }
  return header;
}
