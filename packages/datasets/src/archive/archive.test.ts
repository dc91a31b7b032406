import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildTar } from '../../test/helpers/tar-builder.ts';
import { buildZip } from '../../test/helpers/zip-builder.ts';
import { ArchiveError } from '../errors.ts';
import { resolveLimits, type DatasetLimits } from '../limits.ts';
import { readArchive } from './index.ts';

/** Feeds the archive in small chunks so parsers are exercised across chunk boundaries. */
function chunked(bytes: Buffer, size = 1000): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

async function expand(bytes: Buffer, limits: Partial<DatasetLimits> = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const entry of readArchive(chunked(bytes), { limits: resolveLimits(limits) })) {
    const parts: Buffer[] = [];
    for await (const chunk of entry.stream) parts.push(chunk as Buffer);
    out[entry.path] = Buffer.concat(parts).toString('utf8');
  }
  return out;
}

async function refusal(bytes: Buffer, limits: Partial<DatasetLimits> = {}): Promise<ArchiveError> {
  try {
    await expand(bytes, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(ArchiveError);
    return error as ArchiveError;
  }
  throw new Error('archive was accepted');
}

const text = (s: string) => Buffer.from(s, 'utf8');

describe('readArchive: zip', () => {
  it('expands stored, deflated and data-descriptor entries, skipping folders, __MACOSX and dotfiles', async () => {
    const big = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251));
    const zip = buildZip([
      { name: 'cats/', data: Buffer.alloc(0), method: 0 },
      { name: 'cats/a.txt', data: text('a cat'), method: 0 },
      { name: 'dogs/b.txt', data: text('a dog '.repeat(50)) },
      { name: 'dogs/c.bin', data: big, descriptor: true },
      { name: 'dogs/d.txt', data: text('after descriptor'), descriptor: true },
      { name: '__MACOSX/cats/._a.txt', data: text('junk') },
      { name: 'cats/.DS_Store', data: text('junk') },
      { name: './root.txt', data: text('root') },
    ]);
    const out = await expand(zip);
    expect(Object.keys(out)).toEqual(['cats/a.txt', 'dogs/b.txt', 'dogs/c.bin', 'dogs/d.txt', 'root.txt']);
    expect(out['dogs/b.txt']).toBe('a dog '.repeat(50));
    expect(out['dogs/d.txt']).toBe('after descriptor');
    expect(Buffer.from(out['dogs/c.bin']!, 'utf8').length).toBeGreaterThan(0);
  });

  it('returns the exact bytes of a binary entry read through its stream', async () => {
    const big = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31) % 256));
    const zip = buildZip([
      { name: 'x.bin', data: big, descriptor: true },
      { name: 'y.bin', data: big },
    ]);
    const seen: Buffer[] = [];
    for await (const entry of readArchive(chunked(zip, 777), { limits: resolveLimits() })) {
      const parts: Buffer[] = [];
      for await (const chunk of entry.stream) parts.push(chunk as Buffer);
      seen.push(Buffer.concat(parts));
    }
    expect(seen).toHaveLength(2);
    expect(seen[0]!.equals(big)).toBe(true);
    expect(seen[1]!.equals(big)).toBe(true);
  });

  it('skips entries whose stream the consumer never reads', async () => {
    const zip = buildZip([
      { name: 'a.txt', data: text('x'.repeat(5000)), descriptor: true },
      { name: 'b.txt', data: text('b') },
    ]);
    const paths: string[] = [];
    for await (const entry of readArchive(chunked(zip), { limits: resolveLimits() })) paths.push(entry.path);
    expect(paths).toEqual(['a.txt', 'b.txt']);
  });

  it('enforces limits on entries the consumer skips, and stops cleanly when the consumer stops', async () => {
    const bomb = buildZip([{ name: 'bomb.bin', data: Buffer.alloc(20 * 1024 * 1024), descriptor: true }]);
    const skipping = async () => {
      for await (const entry of readArchive(chunked(bomb), { limits: resolveLimits() })) void entry.path;
    };
    await expect(skipping()).rejects.toMatchObject({ code: 'compression_ratio' });
    const zip = buildZip([
      { name: 'a.txt', data: text('a') },
      { name: 'b.txt', data: text('b') },
    ]);
    for await (const entry of readArchive(chunked(zip), { limits: resolveLimits() })) {
      expect(entry.path).toBe('a.txt');
      break;
    }
  });

  it('refuses zip-slip paths', async () => {
    const error = await refusal(buildZip([{ name: 'cats/../../etc/passwd', data: text('x') }]));
    expect(error.code).toBe('path_traversal');
    expect(error.message).toContain('..');
  });

  it('refuses absolute paths', async () => {
    expect((await refusal(buildZip([{ name: '/etc/passwd', data: text('x') }]))).code).toBe('absolute_path');
    expect((await refusal(buildZip([{ name: 'C:\\Windows\\x.png', data: text('x') }]))).code).toBe('absolute_path');
  });

  it('refuses symlinks recorded in the central directory', async () => {
    const error = await refusal(buildZip([{ name: 'link.png', data: text('/etc/passwd'), unixMode: 0o120777 }]));
    expect(error.code).toBe('link_entry');
  });

  it('refuses nested archives', async () => {
    const inner = buildZip([{ name: 'a.txt', data: text('a') }]);
    expect((await refusal(buildZip([{ name: 'inner.zip', data: inner }]))).code).toBe('nested_archive');
  });

  it('refuses a zip bomb by compression ratio, even when the header lies about the size', async () => {
    const zeros = Buffer.alloc(20 * 1024 * 1024);
    const error = await refusal(buildZip([{ name: 'bomb.bin', data: zeros, descriptor: true }]));
    expect(error.code).toBe('compression_ratio');
    expect(error.details.limit).toBe(100);
    const lying = await refusal(buildZip([{ name: 'bomb.bin', data: zeros, claimedSize: 1000 }]), {
      maxCompressionRatio: 10_000,
    });
    expect(lying.code).toBe('size_mismatch');
  });

  it('refuses an archive that expands past maxArchiveExpandedBytes', async () => {
    const data = Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 7919) % 251));
    const zip = buildZip([0, 1, 2].map((i) => ({ name: `f${i}.bin`, data, method: 0 as const })));
    const error = await refusal(zip, { maxArchiveExpandedBytes: 100_000 });
    expect(error.code).toBe('expanded_size');
    expect(error.message).toContain('maxArchiveExpandedBytes=100000');
  });

  it('refuses more entries than maxEntries', async () => {
    const zip = buildZip(Array.from({ length: 11 }, (_, i) => ({ name: `f${i}.txt`, data: text('x') })));
    const error = await refusal(zip, { maxEntries: 10 });
    expect(error.code).toBe('too_many_entries');
    expect(error.details.limit).toBe(10);
  });

  it('refuses a single file over maxFileBytes, from the header and while expanding', async () => {
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251));
    expect((await refusal(buildZip([{ name: 'big.bin', data }]), { maxFileBytes: 4000 })).code).toBe('file_too_large');
    const hidden = await refusal(buildZip([{ name: 'big.bin', data, descriptor: true }]), { maxFileBytes: 4000 });
    expect(hidden.code).toBe('file_too_large');
    expect(hidden.details.limit).toBe(4000);
  });

  it('refuses encrypted entries, unknown methods and stored entries with a data descriptor', async () => {
    const zip = buildZip([{ name: 'a.txt', data: text('x') }]);
    zip.writeUInt16LE(zip.readUInt16LE(6) | 1, 6);
    expect((await refusal(zip)).code).toBe('encrypted_entry');
    const bzip = buildZip([{ name: 'a.txt', data: text('x') }]);
    bzip.writeUInt16LE(12, 8);
    expect((await refusal(bzip)).code).toBe('unsupported_entry');
    expect((await refusal(buildZip([{ name: 'a.txt', data: text('x'), method: 0, descriptor: true }]))).code).toBe(
      'unsupported_entry',
    );
  });

  it('refuses a truncated zip and one whose central directory disagrees', async () => {
    const zip = buildZip([
      { name: 'a.txt', data: text('hello '.repeat(1000)) },
      { name: 'b.txt', data: text('b') },
    ]);
    expect((await refusal(zip.subarray(0, 200))).code).toBe('truncated_archive');
    const renamed = Buffer.from(zip);
    renamed.write('c', renamed.lastIndexOf('b.txt'), 'latin1');
    expect((await refusal(renamed)).code).toBe('corrupt_archive');
  });

  it('refuses corrupt data with a CRC error', async () => {
    const zip = buildZip([{ name: 'a.txt', data: text('hello world'), method: 0 }]);
    zip[30 + 'a.txt'.length] = 'j'.charCodeAt(0);
    expect((await refusal(zip)).code).toBe('corrupt_archive');
  });
});

describe('readArchive: tar', () => {
  it('expands files with GNU long names, skipping folders and junk', async () => {
    const longName = `cats/${'n'.repeat(120)}.txt`;
    const tar = buildTar([
      { name: 'cats/', type: '5' },
      { name: './cats/a.txt', data: text('a cat') },
      { name: longName, data: text('long') },
      { name: '.hidden', data: text('junk') },
    ]);
    expect(await expand(tar)).toEqual({ 'cats/a.txt': 'a cat', [longName]: 'long' });
  });

  it('expands .tar.gz', async () => {
    const tgz = zlib.gzipSync(buildTar([{ name: 'a/b.txt', data: text('gz') }]));
    expect(await expand(tgz)).toEqual({ 'a/b.txt': 'gz' });
  });

  it('refuses symlinks, hardlinks and devices', async () => {
    expect((await refusal(buildTar([{ name: 'l.png', type: '2', linkname: '/etc/passwd' }]))).code).toBe('link_entry');
    expect((await refusal(buildTar([{ name: 'l.png', type: '1', linkname: 'a.png' }]))).code).toBe('link_entry');
    expect((await refusal(buildTar([{ name: 'dev', type: '3' }]))).code).toBe('special_entry');
  });

  it('refuses zip-slip, absolute paths and nested archives', async () => {
    expect((await refusal(buildTar([{ name: '../evil.png', data: text('x') }]))).code).toBe('path_traversal');
    expect((await refusal(buildTar([{ name: '/evil.png', data: text('x') }]))).code).toBe('absolute_path');
    expect((await refusal(buildTar([{ name: 'x.tar.gz', data: text('x') }]))).code).toBe('nested_archive');
  });

  it('refuses a gzip bomb by overall ratio', async () => {
    const tgz = zlib.gzipSync(buildTar([{ name: 'zeros.bin', data: Buffer.alloc(30 * 1024 * 1024) }]));
    const error = await refusal(tgz);
    expect(error.code).toBe('compression_ratio');
  });

  it('refuses too many entries and oversize files', async () => {
    const many = buildTar(Array.from({ length: 6 }, (_, i) => ({ name: `f${i}.txt`, data: text('x') })));
    expect((await refusal(many, { maxEntries: 5 })).code).toBe('too_many_entries');
    expect(
      (await refusal(buildTar([{ name: 'big.bin', data: Buffer.alloc(3000, 1) }]), { maxFileBytes: 2048 })).code,
    ).toBe('file_too_large');
  });

  it('refuses a corrupt .tar.gz', async () => {
    const tgz = zlib.gzipSync(buildTar([{ name: 'a.txt', data: Buffer.alloc(5000, 65) }]));
    tgz[20] = tgz[20]! ^ 0xff;
    expect((await refusal(tgz)).code).toBe('corrupt_archive');
  });

  it('refuses a truncated tar', async () => {
    const tar = buildTar([{ name: 'a.txt', data: Buffer.alloc(5000, 65) }]);
    expect((await refusal(tar.subarray(0, 2000))).code).toBe('truncated_archive');
  });
});
