import { describe, expect, it } from 'vitest';
import { ArchiveError } from './errors.ts';
import { captionKey, hasArchiveExtension, isJunkPath, labelOf, normaliseMemberPath } from './paths.ts';

function code(path: string): string | undefined {
  try {
    normaliseMemberPath(path);
  } catch (error) {
    return (error as ArchiveError).code;
  }
  return undefined;
}

describe('member paths', () => {
  it('normalises separators, "." and empty segments', () => {
    expect(normaliseMemberPath('./cats//a.png')).toBe('cats/a.png');
    expect(normaliseMemberPath('cats\\b.png')).toBe('cats/b.png');
  });

  it('refuses traversal, absolute paths, drive letters and control characters', () => {
    expect(code('a/../../b.png')).toBe('path_traversal');
    expect(code('..\\b.png')).toBe('path_traversal');
    expect(code('/abs.png')).toBe('absolute_path');
    expect(code('\\\\server\\share.png')).toBe('absolute_path');
    expect(code('D:x.png')).toBe('absolute_path');
    expect(code('a\u0000.png')).toBe('unsafe_path');
    expect(code('./')).toBe('unsafe_path');
  });

  it('knows junk, labels, caption keys and archive names', () => {
    expect(isJunkPath('__MACOSX/cats/._a.png')).toBe(true);
    expect(isJunkPath('cats/.DS_Store')).toBe(true);
    expect(isJunkPath('.git/config')).toBe(true);
    expect(isJunkPath('cats/a.png')).toBe(false);
    expect(labelOf('cats/a.png')).toBe('cats');
    expect(labelOf('cats/kittens/a.png')).toBe('cats');
    expect(labelOf('a.png')).toBeUndefined();
    expect(captionKey('cats/a.png')).toBe(captionKey('cats/a.txt'));
    expect(captionKey('cats/a.png')).not.toBe(captionKey('dogs/a.txt'));
    expect(captionKey('cats/a.b.png')).toBe('cats/a.b');
    expect(hasArchiveExtension('x/y.TAR.GZ')).toBe(true);
    expect(hasArchiveExtension('x/y.png')).toBe(false);
  });
});
