import { layoutTar } from '@dapple/contracts/upload-pack';
import { crc32, crcBytes, layoutZip } from '@dapple/contracts/upload-zip';
import { describe, expect, it } from 'vitest';
import {
  bodyPieces,
  prefetchSmallFiles,
  readBody,
  READ_AHEAD_MAX_FILE_BYTES,
  type CrcCache,
  type ReadCache,
} from './read-ahead';

const fileOf = (size: number, seed: number, name = `${seed}.png`) => {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + seed * 13) & 255;
  return new File([bytes], name, { lastModified: 1_000 });
};

// 250 small files (more than one read group), one empty, one over the read-ahead limit (stays file-backed).
const files = [
  ...Array.from({ length: 250 }, (_, i) => fileOf(100 + ((i * 37) % 900), i)),
  fileOf(0, 999),
  fileOf(READ_AHEAD_MAX_FILE_BYTES + 5, 1000),
];
const sources = files.map((f, i) => ({ path: `a/${i}.png`, size: f.size, mtimeMs: f.lastModified }));
const layout = layoutTar(
  sources,
  files.map((_, i) => i),
);
const pieces = bodyPieces(layout.pieces, (i) => ({ file: files[i]!, path: sources[i]!.path }));
/** The pack as the browser sent it before read-ahead: one Blob of headers and Files. */
const whole = new Blob(
  layout.pieces.map((p) => (p.kind === 'bytes' ? (p.bytes as Uint8Array<ArrayBuffer>) : files[p.index]!)),
);

const bytesOf = async (blob: Blob) => Buffer.from(await blob.arrayBuffer());
/** Byte-equal (toEqual on megabyte arrays takes tens of seconds). */
const same = async (a: Blob, b: Blob) => expect((await bytesOf(a)).equals(await bytesOf(b))).toBe(true);

describe('readBody', () => {
  it('gives the same bytes as slicing the file-backed pack, for whole packs and ranges cutting through files', async () => {
    expect(whole.size).toBe(layout.size);
    const ranges = [
      [0, layout.size],
      [0, 1],
      [511, 1_000],
      [layout.size - 300_000, 300_000],
      [12_345, 67_890],
    ] as const;
    expect(layout.size).toBeGreaterThan(300_000);
    for (const [start, size] of ranges)
      await same(await readBody(pieces, start, size), whole.slice(start, start + size));
  });

  it('takes prefetched files from the cache (and drops them from it), reading the rest', async () => {
    const cache: ReadCache = new Map();
    void prefetchSmallFiles(files.slice(0, 120), cache);
    expect(cache.size).toBe(120);
    const body = await readBody(pieces, 0, layout.size, cache);
    await same(body, whole);
    expect(cache.size).toBe(0);
  });

  it('prefetches small files only, within the memory budget', () => {
    const cache: ReadCache = new Map();
    void prefetchSmallFiles(files, cache, 50_000);
    expect(cache.has(files[251]!)).toBe(false); // over the read-ahead limit
    const held = [...cache.keys()].reduce((sum, f) => sum + f.size, 0);
    expect(held).toBeLessThanOrEqual(50_000);
    expect(held).toBeGreaterThan(49_000);
  });

  it('fills in the CRC-32s of a zip pack, from prefetched bytes or by reading the file, in any range', async () => {
    const zip = layoutZip(
      sources,
      files.map((_, i) => i),
    );
    const zipPieces = bodyPieces(zip.pieces, (i) => ({ file: files[i]!, path: sources[i]!.path }));
    const expected = new Blob(
      await Promise.all(
        zip.pieces.map(async (p) =>
          p.kind === 'bytes'
            ? (p.bytes as Uint8Array<ArrayBuffer>)
            : p.kind === 'crc'
              ? crcBytes(crc32(new Uint8Array(await files[p.index]!.arrayBuffer())))
              : files[p.index]!,
        ),
      ),
    );
    // Without a cache (a resumed upload's last part: the central directory repeats every CRC) …
    for (const [start, size] of [
      [0, zip.size],
      [15, 2], // half of the first CRC
      [zip.size - 5_000, 5_000],
    ] as const)
      await same(await readBody(zipPieces, start, size), expected.slice(start, start + size));
    // … and from the read-ahead, which computes the CRCs as it reads.
    const cache: ReadCache = new Map();
    const crcs: CrcCache = new Map();
    void prefetchSmallFiles(files, cache, undefined, crcs);
    const first = await readBody(zipPieces, 0, Math.floor(zip.size / 2), cache, crcs);
    const second = await readBody(
      zipPieces,
      Math.floor(zip.size / 2),
      zip.size - Math.floor(zip.size / 2),
      cache,
      crcs,
    );
    await same(new Blob([first, second]), expected);
    expect(crcs.size).toBe(files.length);
  });
});
