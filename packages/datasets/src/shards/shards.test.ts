import { describe, expect, it } from 'vitest';
import { MemoryObjects } from '../../test/helpers/memory-objects.ts';
import { ShardIntegrityError } from '../errors.ts';
import { decodeShardHeader } from './format.ts';
import { computeVersionHash, MANIFEST_FORMAT, parseManifest, PixelStats, type DatasetManifest } from './manifest.ts';
import { ShardReader, toFloatImages } from './reader.ts';
import { ShardWriter, type ShardInfo } from './writer.ts';

const H = 4;
const W = 4;
const C = 3;
const SAMPLE = H * W * C;

function sample(i: number): Uint8Array {
  return Uint8Array.from({ length: SAMPLE }, (_, k) => (i * 7 + k) % 256);
}

function manifestFor(shards: ShardInfo[], total: number): DatasetManifest {
  const base = {
    format: MANIFEST_FORMAT,
    formatVersion: 1,
    resolution: H,
    height: H,
    width: W,
    channels: C,
    layout: 'NHWC',
    pixelDtype: 'uint8',
    labelDtype: 'int32',
    transform: { resize: 'shorter-side-lanczos3-center-crop', alphaBackground: 'black', colour: 'srgb' },
    counts: { files: total, accepted: total, rejected: 0, rejectedByReason: {} },
    labels: { names: ['a', 'b', 'c'], histogram: [0, 0, 0], unlabeled: 0 },
    stats: { mean: [0, 0, 0], std: [0, 0, 0] },
    shards,
    thumbnails: { tile: 4, columns: 8, perSheet: 64, sheets: [] },
    preview: null,
  } as const;
  return parseManifest({ ...base, versionHash: computeVersionHash(base) });
}

async function writeSamples(n: number, maxShardSamples: number) {
  const objects = new MemoryObjects();
  const writer = new ShardWriter({ height: H, width: W, channels: C, maxShardSamples, write: objects.write });
  for (let i = 0; i < n; i++) await writer.add(sample(i), i % 3);
  const shards = await writer.finish();
  return { objects, manifest: manifestFor(shards, n) };
}

async function readAll(reader: ShardReader) {
  const out: { id: number; label: number; epoch: number }[] = [];
  for await (const batch of reader) {
    for (let i = 0; i < batch.size; i++) {
      const pixels = batch.images.subarray(i * SAMPLE, (i + 1) * SAMPLE);
      // sample(i)[0] = i*7 % 256 identifies the sample for n < 37 (7 is invertible mod 256).
      const id = [...Array(256).keys()].find((j) => (j * 7) % 256 === pixels[0])!;
      expect(Buffer.from(pixels).equals(Buffer.from(sample(id)))).toBe(true);
      out.push({ id, label: batch.labels[i]!, epoch: batch.epoch });
    }
  }
  return out;
}

describe('ShardWriter → ShardReader', () => {
  it('rolls shards at the sample limit and writes a valid header and hash', async () => {
    const { objects, manifest } = await writeSamples(10, 4);
    expect(manifest.shards.map((s) => [s.name, s.count])).toEqual([
      ['shard-00000.bin', 4],
      ['shard-00001.bin', 4],
      ['shard-00002.bin', 2],
    ]);
    const header = decodeShardHeader(objects.objects.get('shard-00002.bin')!, 'shard-00002.bin');
    expect(header).toMatchObject({ count: 2, height: H, width: W, channels: C, labelsOffset: 64, pixelsOffset: 128 });
    expect(header.totalBytes).toBe(128 + 2 * SAMPLE);
  });

  it('rolls at the byte limit', async () => {
    const objects = new MemoryObjects();
    const writer = new ShardWriter({
      height: H,
      width: W,
      channels: C,
      maxShardBytes: 64 + 64 + 3 * (SAMPLE + 4),
      write: objects.write,
    });
    expect(writer.samplesPerShard).toBe(3);
  });

  it('yields every sample exactly once, with its label and pixels, in order without shuffle', async () => {
    const { objects, manifest } = await writeSamples(10, 4);
    const got = await readAll(new ShardReader({ manifest, open: objects.open, batchSize: 3, shuffle: false }));
    expect(got.map((s) => s.id)).toEqual([...Array(10).keys()]);
    expect(got.map((s) => s.label)).toEqual([...Array(10).keys()].map((i) => i % 3));
  });

  it('shuffles deterministically by seed, differently per epoch, and covers every sample each epoch', async () => {
    const { objects, manifest } = await writeSamples(30, 4);
    const read = (seed: number) =>
      readAll(new ShardReader({ manifest, open: objects.open, batchSize: 7, seed, epochs: 2, shuffleBuffer: 5 }));
    const a = await read(1);
    const b = await read(1);
    const c = await read(2);
    expect(a).toEqual(b);
    expect(a.map((s) => s.id)).not.toEqual(c.map((s) => s.id));
    const epoch0 = a.filter((s) => s.epoch === 0).map((s) => s.id);
    const epoch1 = a.filter((s) => s.epoch === 1).map((s) => s.id);
    expect([...epoch0].sort((x, y) => x - y)).toEqual([...Array(30).keys()]);
    expect([...epoch1].sort((x, y) => x - y)).toEqual([...Array(30).keys()]);
    expect(epoch0).not.toEqual(epoch1);
    expect(epoch0).not.toEqual([...Array(30).keys()]);
    for (const s of a) expect(s.label).toBe(s.id % 3);
  });

  it('drops the last partial batch when asked', async () => {
    const { objects, manifest } = await writeSamples(10, 4);
    const sizes: number[] = [];
    for await (const b of new ShardReader({ manifest, open: objects.open, batchSize: 4, dropLast: true }))
      sizes.push(b.size);
    expect(sizes).toEqual([4, 4]);
  });

  it('refuses a shard whose bytes do not match the manifest hash', async () => {
    const { objects, manifest } = await writeSamples(6, 4);
    const shard = objects.objects.get('shard-00001.bin')!;
    shard[shard.length - 1] = shard[shard.length - 1]! ^ 0xff;
    const reader = new ShardReader({ manifest, open: objects.open, batchSize: 100, shuffle: false });
    const error = await readAll(reader).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShardIntegrityError);
    expect((error as Error).message).toMatch(/shard-00001\.bin SHA-256 is [0-9a-f]{64}, the manifest says/);
  });

  it('refuses a truncated shard', async () => {
    const { objects, manifest } = await writeSamples(6, 4);
    objects.objects.set('shard-00000.bin', objects.objects.get('shard-00000.bin')!.subarray(0, 100));
    const error = await readAll(new ShardReader({ manifest, open: objects.open, batchSize: 2 })).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toContain('the manifest lists');
  });

  it('converts uint8 batches to float in [-1, 1]', () => {
    expect([...toFloatImages(Uint8Array.from([0, 255, 127.5]))].map((v) => Number(v.toFixed(3)))).toEqual([
      -1, 1, -0.004,
    ]);
  });
});

describe('manifest', () => {
  it('validates with a message naming the field', () => {
    expect(() => parseManifest({ format: MANIFEST_FORMAT })).toThrow(/formatVersion/);
  });

  it('computes exact per-channel mean and std', () => {
    const stats = new PixelStats(3);
    const images = [sample(1), sample(2), sample(3)];
    for (const image of images) stats.add(image);
    const { mean, std } = stats.result();
    for (let ch = 0; ch < 3; ch++) {
      const values = images.flatMap((img) => [...img].filter((_, i) => i % 3 === ch));
      const m = values.reduce((a, b) => a + b, 0) / values.length;
      const s = Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / values.length);
      expect(mean[ch]).toBeCloseTo(m, 10);
      expect(std[ch]).toBeCloseTo(s, 10);
    }
  });
});
