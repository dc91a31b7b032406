import { describe, expect, it } from 'vitest';
import { InvalidKeyError } from './errors.ts';
import { deletionPrefix, listPrefix, ObjectKey, objectKey } from './object-key.ts';

describe('objectKey', () => {
  it('accepts the keys our services build', () => {
    for (const key of ['datasets/abc/v1/manifest.json', 'runs/r-1/ckpt_000100.bin', 'a', 'a.b-c_d/e'])
      expect(objectKey(key)).toBe(key);
  });

  it('refuses anything that could escape a directory or needs escaping', () => {
    const bad = [
      '',
      '/abs',
      'a/../b',
      '..',
      '.',
      'a/./b',
      'a//b',
      'a/',
      'Upper',
      'sp ace',
      'ü',
      'a\\b',
      'a?b',
      'a%2f',
      'x'.repeat(513),
    ];
    for (const key of bad) expect(() => objectKey(key), JSON.stringify(key)).toThrow(InvalidKeyError);
  });

  it('names the rule and the limit in its messages', () => {
    expect(() => objectKey('x'.repeat(600))).toThrow(/600 characters long; the limit is 512/);
    expect(() => objectKey('A')).toThrow(/may only contain a-z, 0-9/);
  });

  it('joins segments and validates the result', () => {
    expect(ObjectKey.join('datasets', 'id1', 'v2', 'shard-000.bin')).toBe('datasets/id1/v2/shard-000.bin');
    expect(() => ObjectKey.join('datasets', '..', 'x')).toThrow(InvalidKeyError);
    expect(() => ObjectKey.join('datasets', 'User Input.png')).toThrow(InvalidKeyError);
  });

  it('prefixes: listing allows "" and partial names, deletion needs a folder', () => {
    expect(listPrefix('')).toBe('');
    expect(listPrefix('datasets/a')).toBe('datasets/a');
    expect(listPrefix('datasets/')).toBe('datasets/');
    expect(() => listPrefix('../')).toThrow(InvalidKeyError);
    expect(deletionPrefix('runs/1/')).toBe('runs/1/');
    expect(() => deletionPrefix('runs/1')).toThrow(/end with '\/'/);
    expect(() => deletionPrefix('')).toThrow(InvalidKeyError);
  });
});
