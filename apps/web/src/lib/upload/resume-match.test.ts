import { describe, expect, it } from 'vitest';
import { matchPickedFiles } from './resume-match';
import { fingerprintOf, partLength, pendingProgress } from './resume-store';

const file = (name: string, bytes: number, lastModified: number) =>
  new File([new Uint8Array(bytes)], name, { lastModified });

describe('matchPickedFiles', () => {
  const big = file('big.png', 30, 1_000);
  const cat = file('1.png', 10, 2_000);
  const dog = file('1.png', 10, 2_000); // same name, size and time in another folder
  const expected = [fingerprintOf(big, 'big.png'), fingerprintOf(cat, 'cats/1.png'), fingerprintOf(dog, 'dogs/1.png')];

  it('returns the picked files in the upload’s order, using the path to tell identical fingerprints apart', () => {
    const result = matchPickedFiles(expected, [
      { file: dog, path: 'dogs/1.png' },
      { file: big, path: 'big.png' },
      { file: cat, path: 'cats/1.png' },
    ]);
    expect(result).toEqual({ ok: true, files: [big, cat, dog] });
  });

  it('accepts a file picked under another path (files instead of the folder) when its fingerprint matches', () => {
    const result = matchPickedFiles([fingerprintOf(big, 'images/big.png')], [{ file: big, path: 'big.png' }]);
    expect(result).toEqual({ ok: true, files: [big] });
  });

  it('refuses a file with the same name but another size, saying what differs', () => {
    const edited = file('big.png', 31, 1_000);
    const result = matchPickedFiles([fingerprintOf(big, 'big.png')], [{ file: edited, path: 'big.png' }]);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.message).toContain('“big.png” is not the file that was being uploaded');
      expect(result.message).toContain('30 bytes');
      expect(result.message).toContain('31 bytes');
    }
  });

  it('refuses a file with the same name and size but another modification time', () => {
    const touched = file('big.png', 30, 5_000);
    expect(matchPickedFiles([fingerprintOf(big, 'big.png')], [{ file: touched, path: 'big.png' }]).ok).toBe(false);
  });

  it('names missing and extra files', () => {
    const missing = matchPickedFiles(expected, [{ file: big, path: 'big.png' }]);
    expect(missing).toEqual({ ok: false, message: expect.stringContaining('missing: “cats/1.png”, “dogs/1.png”') });
    const extra = matchPickedFiles(
      [fingerprintOf(big, 'big.png')],
      [
        { file: big, path: 'big.png' },
        { file: file('other.png', 3, 1), path: 'other.png' },
      ],
    );
    expect(extra).toEqual({
      ok: false,
      message: expect.stringContaining('“other.png” was not part of the interrupted upload'),
    });
  });
});

describe('pendingProgress', () => {
  it('counts stored parts by their exact lengths (the last part is shorter)', () => {
    const multipart = {
      path: 'a',
      name: 'a',
      size: 25,
      lastModified: 0,
      partSize: 10,
      partCount: 3,
      partsDone: [3, 1, 1],
    };
    const single = { path: 'b', name: 'b', size: 7, lastModified: 0, partSize: null, partCount: 1, partsDone: [] };
    expect(partLength(multipart, 3)).toBe(5);
    expect(
      pendingProgress({ uploadId: 'u', datasetId: 'd', datasetName: 'x', savedAt: '', files: [multipart, single] }),
    ).toEqual({ doneBytes: 15, totalBytes: 32 });
  });
});
