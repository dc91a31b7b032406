import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ArchiveError } from '../src/errors.ts';
import { processImage } from '../src/image.ts';
import type { InputFile } from '../src/members.ts';
import { prepareDataset, type PrepareOptions } from '../src/prepare.ts';
import { ShardReader } from '../src/shards/reader.ts';
import { thumbnailLocation } from '../src/thumbnails.ts';
import { animatedGif, encode, gradient, png } from './helpers/images.ts';
import { MemoryObjects } from './helpers/memory-objects.ts';
import { buildTar } from './helpers/tar-builder.ts';
import { buildZip } from './helpers/zip-builder.ts';

const RES = 16;

function file(path: string, bytes: Buffer): InputFile {
  return { path, size: bytes.length, open: async () => Readable.from([bytes]) };
}

async function prepare(files: InputFile[], extra: Partial<PrepareOptions> = {}) {
  const objects = new MemoryObjects();
  const result = await prepareDataset({
    files,
    resolution: RES,
    channels: 3,
    writeObject: objects.write,
    maxShardBytes: 3000,
    ...extra,
  });
  return { ...result, objects };
}

/** A small dataset: two classes, a caption, and one file for each reject reason. */
async function fixture(): Promise<Record<string, Buffer>> {
  const cat0 = await png(32, 24, 1);
  const jpeg = await encode(gradient(40, 40, 3, 5), 40, 40, 3, 'jpeg');
  return {
    'cats/0.png': cat0,
    'cats/0.txt': Buffer.from('  a cat, sitting  \n'),
    'cats/1.jpg': jpeg,
    'dogs/0.webp': await encode(gradient(20, 30, 3, 2), 20, 30, 3, 'webp'),
    'dogs/1.gif': await animatedGif(20, 20),
    'dogs/copy-of-cat.png': cat0,
    'dogs/broken.png': (await png(30, 30, 9)).subarray(0, 60),
    'dogs/notes.png': Buffer.from('this is text with a png name'),
    'dogs/tiny.png': await png(7, 40, 3),
    'dogs/huge.png': await png(400, 300, 4),
    'root.png': await png(16, 16, 6),
    'orphan.txt': Buffer.from('nobody'),
  };
}

describe('prepareDataset', () => {
  it('accepts, rejects with reasons, labels by folder, pairs captions, and round-trips through the reader', async () => {
    const data = await fixture();
    const files = Object.entries(data).map(([p, b]) => file(p, b));
    const progress: [number, number][] = [];
    const {
      manifest,
      files: records,
      objects,
    } = await prepare(files, {
      limits: { maxImagePixels: 100_000 },
      onProgress: (done, total) => progress.push([done, total]),
    });

    const byPath = Object.fromEntries(records.map((r) => [r.path, r]));
    expect(byPath['cats/0.png']).toMatchObject({
      status: 'accepted',
      label: 'cats',
      caption: 'a cat, sitting',
      index: 0,
    });
    expect(byPath['cats/1.jpg']).toMatchObject({ status: 'accepted', label: 'cats' });
    expect(byPath['dogs/0.webp']).toMatchObject({ status: 'accepted', label: 'dogs' });
    expect(byPath['dogs/1.gif']).toMatchObject({ status: 'accepted', label: 'dogs' });
    expect(byPath['root.png']).toMatchObject({ status: 'accepted' });
    expect(byPath['root.png']!.label).toBeUndefined();
    expect(byPath['dogs/copy-of-cat.png']).toMatchObject({
      status: 'rejected',
      reason: 'duplicate',
      duplicateOf: 'cats/0.png',
    });
    expect(byPath['dogs/broken.png']).toMatchObject({ status: 'rejected', reason: 'corrupt' });
    expect(byPath['dogs/notes.png']).toMatchObject({ status: 'rejected', reason: 'unsupported_type' });
    expect(byPath['dogs/tiny.png']).toMatchObject({ status: 'rejected', reason: 'too_small' });
    expect(byPath['dogs/huge.png']).toMatchObject({ status: 'rejected', reason: 'too_many_pixels' });
    expect(byPath['orphan.txt']).toMatchObject({ status: 'rejected', reason: 'orphan_caption' });
    expect(byPath['cats/0.txt']).toBeUndefined();
    expect(byPath['cats/0.png']!.sha256).toMatch(/^[0-9a-f]{64}$/);

    expect(manifest.counts).toEqual({
      files: 11,
      accepted: 5,
      rejected: 6,
      rejectedByReason: {
        duplicate: 1,
        corrupt: 1,
        unsupported_type: 1,
        too_small: 1,
        too_many_pixels: 1,
        orphan_caption: 1,
      },
    });
    expect(manifest.labels).toEqual({ names: ['cats', 'dogs'], histogram: [2, 2], unlabeled: 1 });
    expect(progress.at(-1)).toEqual([12, 12]);

    // The reader yields exactly the accepted images, with their labels and the pixels processImage makes.
    const accepted = records.filter((r) => r.status === 'accepted').sort((a, b) => a.index! - b.index!);
    const expected = await Promise.all(
      accepted.map((r) => processImage(data[r.path]!, { resolution: RES, channels: 3, maxImagePixels: 100_000 })),
    );
    const seen: { pixels: Buffer; label: number }[] = [];
    for await (const batch of new ShardReader({ manifest, open: objects.open, batchSize: 2, shuffle: false })) {
      for (let i = 0; i < batch.size; i++) {
        seen.push({
          pixels: Buffer.from(batch.images.subarray(i * RES * RES * 3, (i + 1) * RES * RES * 3)),
          label: batch.labels[i]!,
        });
      }
    }
    expect(seen).toHaveLength(5);
    seen.forEach((s, i) => {
      const want = expected[i]!;
      expect(want.ok && s.pixels.equals(want.pixels)).toBe(true);
      const label = accepted[i]!.label;
      expect(s.label).toBe(label === undefined ? -1 : manifest.labels.names.indexOf(label));
    });

    // Stats against a direct computation over the accepted pixels.
    for (let ch = 0; ch < 3; ch++) {
      const values = seen.flatMap((s) => [...s.pixels].filter((_, k) => k % 3 === ch));
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      expect(manifest.stats.mean[ch]).toBeCloseTo(mean, 9);
      expect(manifest.stats.std[ch]).toBeCloseTo(std, 9);
    }

    // Objects: several shards (3 samples each), thumbnails, preview, and the manifest written last.
    expect(manifest.shards.length).toBeGreaterThan(1);
    expect(objects.order.at(-1)).toBe('manifest.json');
    expect(JSON.parse(objects.objects.get('manifest.json')!.toString())).toEqual(manifest);
    // Thumbnails: one sheet holding the 5 accepted images' tiles (the training pixels, as 16 px is under the tile size).
    expect(manifest.thumbnails).toEqual({ tile: RES, columns: 8, perSheet: 64, sheets: ['thumbs/sheet-00000.webp'] });
    const sheet = await sharp(objects.objects.get('thumbs/sheet-00000.webp')).metadata();
    expect([sheet.format, sheet.width, sheet.height]).toEqual(['webp', 5 * RES, RES]);
    expect(thumbnailLocation(3, RES)).toEqual({ name: 'thumbs/sheet-00000.webp', x: 3 * RES, y: 0, size: RES });
    expect(manifest.preview).toBe('preview.png');
    const preview = await sharp(objects.objects.get('preview.png')).metadata();
    // A row per class (cats, dogs: 2 images each); root.png has no class and is not in it.
    expect([preview.format, preview.width, preview.height]).toEqual(['png', 2 * RES, 2 * RES]);
  });

  it('gives the same shards and version hash for the same input, whatever the concurrency', async () => {
    const data = await fixture();
    const files = () => Object.entries(data).map(([p, b]) => file(p, b));
    const a = await prepare(files(), { concurrency: 1 });
    const b = await prepare(files(), { concurrency: 6 });
    expect(a.manifest.versionHash).toBe(b.manifest.versionHash);
    expect(a.manifest).toEqual(b.manifest);
    const c = await prepare(files().reverse(), { concurrency: 6 });
    expect(c.manifest.versionHash).not.toBe(a.manifest.versionHash);
  });

  it('expands zip and tar archives, labelling by the top folder inside the archive', async () => {
    const zip = buildZip([
      { name: 'cats/a.png', data: await png(20, 20, 1), method: 0 },
      { name: 'cats/a.txt', data: Buffer.from('zip caption') },
      { name: 'dogs/b.png', data: await png(20, 20, 2), descriptor: true },
      { name: '__MACOSX/dogs/._b.png', data: Buffer.from('junk') },
    ]);
    const tar = buildTar([{ name: 'birds/c.png', data: await png(20, 20, 3) }]);
    const { manifest, files } = await prepare([file('upload/animals.zip', zip), file('more.tar', tar)]);
    expect(files.map((f) => [f.path, f.label, f.status, f.caption])).toEqual([
      ['upload/animals.zip/cats/a.png', 'cats', 'accepted', 'zip caption'],
      ['upload/animals.zip/dogs/b.png', 'dogs', 'accepted', undefined],
      ['more.tar/birds/c.png', 'birds', 'accepted', undefined],
    ]);
    expect(files[0]!.archive).toBe('upload/animals.zip');
    expect(manifest.labels.names).toEqual(['cats', 'dogs', 'birds']);
  });

  it('takes labels from the first folder level with more than one folder: a zip made by Info-ZIP with one wrapper folder', async () => {
    // fixtures/digits-wrapper.zip: `zip -r digits-wrapper.zip digits` of digits/{0,1,2}/{0,1,2}.png (directory
    // entries included, deflated, in the tool's own order: 2, 0, 1).
    const zip = readFileSync(new URL('./fixtures/digits-wrapper.zip', import.meta.url));
    const { manifest, files, objects } = await prepare([file('digits-wrapper.zip', zip)], { previewCount: 6 });
    expect(manifest.counts.accepted).toBe(9);
    expect(manifest.labels).toEqual({ names: ['2', '0', '1'], histogram: [3, 3, 3], unlabeled: 0 });
    expect(files.map((f) => [f.path.replace('digits-wrapper.zip/', ''), f.label])).toContainEqual([
      'digits/0/1.png',
      '0',
    ]);
    expect(new Set(files.map((f) => f.label))).toEqual(new Set(['0', '1', '2']));
    // The shards' labels are the classes (no mapping needed: one wrapper maps folder ids one to one).
    const labels = await readLabels(manifest, objects);
    expect(labels.sort()).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    // The preview has a row per class: 3 classes × ⌊6 / 3⌋ = 2 columns × 3 rows of 16 px tiles.
    const meta = await sharp(objects.objects.get('preview.png')).metadata();
    expect([meta.width, meta.height]).toEqual([2 * 16, 3 * 16]);
  });

  it('maps nested folders below the label level to their label, and files above it to none (manifest shardIds)', async () => {
    const zip = buildZip([
      { name: 'animals/cover.png', data: await png(20, 20, 1) },
      { name: 'animals/cats/persian/a.png', data: await png(20, 20, 2) },
      { name: 'animals/dogs/b.png', data: await png(20, 20, 3) },
      { name: 'animals/cats/c.png', data: await png(20, 20, 4) },
      { name: 'animals/cats/siamese/d.png', data: await png(20, 20, 5) },
    ]);
    const { manifest, files, objects } = await prepare([file('animals.zip', zip)]);
    expect(files.map((f) => [f.path.replace('animals.zip/animals/', ''), f.label])).toEqual([
      ['cover.png', undefined],
      ['cats/persian/a.png', 'cats'],
      ['dogs/b.png', 'dogs'],
      ['cats/c.png', 'cats'],
      ['cats/siamese/d.png', 'cats'],
    ]);
    expect(manifest.labels).toMatchObject({ names: ['cats', 'dogs'], histogram: [3, 1], unlabeled: 1 });
    // Folder ids in the shards (animals, animals/cats/persian, animals/dogs, animals/cats, animals/cats/siamese) → labels.
    expect(manifest.labels.shardIds).toEqual([-1, 0, 1, 0, 0]);
    expect((await readLabels(manifest, objects)).sort()).toEqual([-1, 0, 0, 0, 1]);
  });

  it('keeps top-level class folders as labels (no wrapper), and previews every class, not the first images', async () => {
    const files: InputFile[] = [];
    // 40 images of class a first, then 2 of b and 2 of c: "the first 64" would show only a.
    for (let i = 0; i < 40; i++) files.push(file(`a/${i}.png`, await png(16, 16, 100 + i)));
    for (const cls of ['b', 'c'])
      for (let i = 0; i < 2; i++) files.push(file(`${cls}/${i}.png`, await png(16, 16, cls.charCodeAt(0) * 10 + i)));
    const { manifest, objects } = await prepare(files, { previewCount: 12 });
    expect(manifest.labels).toEqual({ names: ['a', 'b', 'c'], histogram: [40, 2, 2], unlabeled: 0 });
    const preview = objects.objects.get('preview.png')!;
    const { data, info } = await sharp(preview).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([4 * 16, 3 * 16]); // a row per class, 4 wide
    // Rows b and c hold their 2 images then black padding; row a is full.
    const tileMean = (row: number, col: number) => {
      let sum = 0;
      for (let y = 0; y < 16; y++)
        for (let x = 0; x < 16; x++) sum += data[((row * 16 + y) * info.width + col * 16 + x) * info.channels]!;
      return sum / 256;
    };
    expect(tileMean(1, 0)).toBeGreaterThan(0);
    expect(tileMean(2, 1)).toBeGreaterThan(0);
    expect(tileMean(1, 2)).toBe(0);
    expect(tileMean(2, 3)).toBe(0);
    expect(tileMean(0, 3)).toBeGreaterThan(0);
  });

  it('refuses an unsafe archive and writes no manifest', async () => {
    const attacks: [string, Buffer][] = [
      [
        'path_traversal',
        buildZip([
          { name: 'ok.png', data: await png(20, 20) },
          { name: '../../evil.png', data: await png(20, 20, 1) },
        ]),
      ],
      [
        'nested_archive',
        buildZip([{ name: 'cats/inner.bin', data: buildZip([{ name: 'x.png', data: await png(20, 20) }]) }]),
      ],
      ['compression_ratio', buildZip([{ name: 'bomb.png', data: Buffer.alloc(30 * 1024 * 1024), descriptor: true }])],
      ['link_entry', buildTar([{ name: 'cats/l.png', type: '2', linkname: '/etc/shadow' }])],
    ];
    for (const [code, archive] of attacks) {
      const objects = new MemoryObjects();
      const error = await prepareDataset({
        files: [file('a.zip', archive)],
        resolution: RES,
        channels: 3,
        writeObject: objects.write,
      }).catch((e: unknown) => e);
      expect(error, code).toBeInstanceOf(ArchiveError);
      expect((error as ArchiveError).code).toBe(code);
      expect((error as ArchiveError).details.archive).toBe('a.zip');
      expect((error as ArchiveError).message).toMatch(/^a\.zip: /);
      expect(objects.objects.has('manifest.json')).toBe(false);
    }
  });

  it('rejects a plain file over maxFileBytes without keeping it, and an unsafe upload path', async () => {
    const big = await png(40, 40, 1);
    const { files } = await prepare([file('big.png', big), file('../x.png', await png(20, 20))], {
      limits: { maxFileBytes: big.length - 1 },
    });
    expect(files).toEqual([
      expect.objectContaining({ path: 'big.png', status: 'rejected', reason: 'too_large', size: big.length }),
      expect.objectContaining({ path: '../x.png', status: 'rejected', reason: 'unsafe_path' }),
    ]);
    expect(files[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('stops on abort before writing the manifest', async () => {
    const controller = new AbortController();
    const objects = new MemoryObjects();
    const files = (async function* () {
      yield file('a.png', await png(20, 20, 1));
      controller.abort(new Error('stop now'));
      yield file('b.png', await png(20, 20, 2));
    })();
    const error = await prepareDataset({
      files,
      resolution: RES,
      channels: 1,
      writeObject: objects.write,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('stop now');
    expect(objects.objects.has('manifest.json')).toBe(false);
  });
});

/** Every label the reader yields (it maps manifest.labels.shardIds). */
async function readLabels(manifest: Awaited<ReturnType<typeof prepare>>['manifest'], objects: MemoryObjects) {
  const reader = new ShardReader({
    manifest,
    batchSize: 4,
    shuffle: false,
    open: async (name) => Readable.from([objects.objects.get(name)!]),
  });
  const out: number[] = [];
  for await (const batch of reader) out.push(...batch.labels);
  return out;
}

describe('preview without thumbnails', () => {
  it('writes no preview (and no error) for a labelled upload when thumbnailSize is 0', async () => {
    const files = [file('a/0.png', await png(16, 16, 1)), file('b/0.png', await png(16, 16, 2))];
    const { manifest } = await prepare(files, { thumbnailSize: 0 });
    expect(manifest.preview).toBeNull();
    expect(manifest.labels.names).toEqual(['a', 'b']);
  });
});
