import { MAX_PACK_BYTES } from '@dapple/contracts/upload-pack';
import { crc32 } from '@dapple/contracts/upload-zip';
import { describe, expect, it } from 'vitest';
import { partBody, pipelinePackBytes, PIPELINE_MAX_BYTES, PIPELINE_PACK_BYTES, prepareUpload } from './items';

const picked = (count: number, size: number) =>
  Array.from({ length: count }, (_, i) => {
    const bytes = new Uint8Array(size).map((_, j) => (i * 31 + j) & 255);
    const path = `${i % 2 ? 'b' : 'a'}/${i}.png`;
    return { file: new File([bytes], `${i}.png`, { lastModified: 1_000 }), path };
  });

describe('packs of a folder of small files', () => {
  it('sends 5,000 small files (3.5 MB of zip) as two zip packs, in file order, each a whole zip', async () => {
    const files = picked(5_000, 600);
    const prepared = prepareUpload(files);
    const packs = prepared.items.filter((item) => item.kind === 'pack');
    expect(packs.length).toBe(prepared.items.length);
    expect(packs.map((p) => p.format)).toEqual(['zip', 'zip']);
    expect(packs[0]!.size).toBeLessThanOrEqual(PIPELINE_PACK_BYTES);
    expect(packs[0]!.size).toBeGreaterThan(PIPELINE_PACK_BYTES - 1_000);
    expect(packs.flatMap((p) => p.indexes)).toEqual(files.map((_, i) => i));

    // The second pack, as sent: a stored zip whose end record counts its files and whose first entry's CRC is right.
    const second = packs[1]!;
    const part = { fileIndex: 1, partNumber: 1, method: 'PUT', url: '', start: 0, size: second.size, headers: [] };
    const body = new Uint8Array(await (await partBody(prepared, part)).arrayBuffer());
    expect(body.length).toBe(second.size);
    const view = new DataView(body.buffer);
    expect(view.getUint32(body.length - 22, true)).toBe(0x06054b50);
    expect(view.getUint16(body.length - 22 + 10, true)).toBe(second.indexes.length);
    const first = files[second.indexes[0]!]!;
    expect(view.getUint32(14, true)).toBe(crc32(new Uint8Array(await first.file.arrayBuffer())) >>> 0);
  });

  it('keeps a few small files in one pack, splits up to PIPELINE_MAX_BYTES, leaves more whole', () => {
    expect(prepareUpload(picked(20, 600)).items).toHaveLength(1);
    // Archives and files too big to pack do not count towards the bytes to pack.
    const others = [
      { path: 'all.zip', size: 1e9 },
      { path: 'huge.png', size: 1e8 },
    ];
    const small = (count: number, size: number) =>
      Array.from({ length: count }, (_, i) => ({ path: `${i}.png`, size }));
    expect(pipelinePackBytes([...others, ...small(1_024, PIPELINE_MAX_BYTES / 1_024)])).toBe(PIPELINE_PACK_BYTES);
    expect(pipelinePackBytes([...others, ...small(1_024, PIPELINE_MAX_BYTES / 1_024 + 1)])).toBe(MAX_PACK_BYTES);
  });
});
