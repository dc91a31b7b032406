import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesSentIn, layoutTar, planUploadItems, type PackLayout, type PackSource } from './upload-pack.ts';
import { crc32, crcBytes } from './upload-zip.ts';

const bytesOf = (source: PackSource, i: number) => Buffer.alloc(source.size, (i * 37) % 251);

function materialise(layout: PackLayout, sources: PackSource[]): Buffer {
  return Buffer.concat(
    layout.pieces.map((p) =>
      p.kind === 'bytes'
        ? Buffer.from(p.bytes)
        : p.kind === 'crc'
          ? Buffer.from(crcBytes(crc32(bytesOf(sources[p.index]!, p.index))))
          : bytesOf(sources[p.index]!, p.index),
    ),
  );
}

describe('upload packs', () => {
  const sources: PackSource[] = [
    { path: 'cats/1.png', size: 700, mtimeMs: 1_700_000_000_123 },
    { path: 'cats/empty.txt', size: 0, mtimeMs: 0 },
    { path: `dogs/${'long-name-'.repeat(12)}.png`, size: 512, mtimeMs: 0 },
    { path: 'dogs/chien-été.png', size: 1, mtimeMs: 0 },
    { path: 'more.zip', size: 10, mtimeMs: 0 },
  ];

  it('lays out a tar that GNU tar reads back with every path and byte', () => {
    const items = planUploadItems(sources);
    expect(items.map((i) => [i.kind, i.path])).toEqual([
      ['file', 'more.zip'],
      ['pack', 'dapple-pack-1.tar'],
    ]);
    const pack = items[1]!;
    if (pack.kind !== 'pack') throw new Error('expected a pack');
    const tar = materialise(pack.layout, sources);
    expect(tar.length).toBe(pack.size);
    expect(tar.length % 512).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'upload-pack-'));
    try {
      writeFileSync(join(dir, 'p.tar'), tar);
      execFileSync('tar', ['-xf', 'p.tar'], { cwd: dir });
      for (const index of pack.indexes) {
        const source = sources[index]!;
        expect(readFileSync(join(dir, source.path)).equals(bytesOf(source, index)), source.path).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('packs small files as a stored zip that the zipfile module of Python reads back (and checks) with every path and byte', () => {
    const small = sources.filter((s) => s.path !== 'more.zip');
    const items = planUploadItems(small, { zipSmallFiles: true });
    expect(items.map((i) => [i.kind, i.path])).toEqual([['pack', 'dapple-pack-1.zip']]);
    const pack = items[0]!;
    if (pack.kind !== 'pack') throw new Error('expected a pack');
    expect(pack.format).toBe('zip');
    const zip = materialise(pack.layout, small);
    expect(zip.length).toBe(pack.size);
    // A third of the tar's size for these files (the tar pads each to 512 bytes after a 512-byte header).
    expect(zip.length).toBeLessThan(layoutTar(small, pack.indexes).size / 2);
    const dir = mkdtempSync(join(tmpdir(), 'upload-pack-'));
    try {
      writeFileSync(join(dir, 'p.zip'), zip);
      // testzip() reads every entry and checks its CRC-32; then each entry is compared byte for byte.
      const script = [
        'import json, sys, zipfile',
        'z = zipfile.ZipFile(sys.argv[1])',
        'assert z.testzip() is None',
        'print(json.dumps({i.filename: z.read(i).hex() for i in z.infolist()}))',
      ].join('\n');
      const read = JSON.parse(
        execFileSync('/usr/bin/python3', ['-c', script, join(dir, 'p.zip')], { encoding: 'utf8' }),
      );
      expect(Object.keys(read)).toEqual(small.map((s) => s.path));
      small.forEach((source, i) => expect(read[source.path], source.path).toBe(bytesOf(source, i).toString('hex')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps tar for larger files even when zip is allowed (its overhead is small there)', () => {
    const large = Array.from({ length: 4 }, (_, i) => ({ path: `c/${i}.png`, size: 200_000, mtimeMs: 0 }));
    const [pack] = planUploadItems(large, { zipSmallFiles: true });
    expect(pack?.kind === 'pack' && pack.format).toBe('tar');
  });

  it('crc32 is the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    const whole = crc32(new TextEncoder().encode('hello world'));
    expect(crc32(new TextEncoder().encode(' world'), crc32(new TextEncoder().encode('hello')))).toBe(whole);
  });

  it('is deterministic and splits at the pack size', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ path: `c/${i}.png`, size: 1000, mtimeMs: i }));
    const a = planUploadItems(many, { maxPackBytes: 16 * 1024 });
    const b = planUploadItems(many, { maxPackBytes: 16 * 1024 });
    expect(a.map((i) => i.size)).toEqual(b.map((i) => i.size));
    expect(a.length).toBeGreaterThan(1);
    for (const item of a) expect(item.size).toBeLessThanOrEqual(16 * 1024);
    expect(a.flatMap((i) => (i.kind === 'pack' ? i.indexes : [i.index]))).toEqual(many.map((_, i) => i));
  });

  it('counts the files whose bytes all arrived', () => {
    const layout = layoutTar(sources, [0, 1, 2, 3]);
    expect(filesSentIn(layout, [])).toBe(0);
    expect(filesSentIn(layout, [{ start: 0, end: layout.size }])).toBe(4);
    const second = layout.ends[2]!;
    // Only the range holding the third file's data.
    expect(filesSentIn(layout, [{ start: second.start - 10, end: second.end }])).toBe(1);
    expect(filesSentIn(layout, [{ start: second.start + 1, end: layout.size }])).toBe(1);
  });
});
