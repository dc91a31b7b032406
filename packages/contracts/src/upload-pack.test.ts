import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesSentIn, layoutTar, planUploadItems, type PackLayout, type PackSource } from './upload-pack.ts';

const bytesOf = (source: PackSource, i: number) => Buffer.alloc(source.size, (i * 37) % 251);

function materialise(layout: PackLayout, sources: PackSource[]): Buffer {
  return Buffer.concat(
    layout.pieces.map((p) => (p.kind === 'bytes' ? Buffer.from(p.bytes) : bytesOf(sources[p.index]!, p.index))),
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

  it('is deterministic and splits at the pack size', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ path: `c/${i}.png`, size: 1000, mtimeMs: i }));
    const a = planUploadItems(many, 16 * 1024);
    const b = planUploadItems(many, 16 * 1024);
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
