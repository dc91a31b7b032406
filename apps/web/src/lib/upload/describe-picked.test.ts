import { describe, expect, it } from 'vitest';
import { describePicked } from './describe-picked';

const files = (...paths: string[]) => paths.map((path) => ({ path }));

describe('describePicked', () => {
  it('counts images, archives, captions and other files apart', () => {
    expect(describePicked([])).toBe('images');
    expect(describePicked(files('a.png'))).toBe('1 image');
    expect(describePicked(files('cats/a.JPG', 'cats/b.jpeg', 'dogs/c.webp', 'dogs/d.gif'))).toBe('4 images');
    expect(describePicked(files('set.zip'))).toBe('1 archive');
    expect(describePicked(files('a.png', 'set.zip', 'more.tar.gz'))).toBe('1 image and 2 archives');
    // A real folder: captions beside images, a macOS .DS_Store and a stray note are not announced as images.
    expect(
      describePicked(files('cats/a.jpg', 'cats/a.txt', 'cats/b.jpg', 'cats/.DS_Store', 'notes.md', 'dogs/c.png')),
    ).toBe('3 images, 1 caption and 2 other files');
    expect(describePicked(files('readme.md'))).toBe('1 other file');
    expect(describePicked(files('a.png', '.git/b.png', '__MACOSX/cats/._a.png'))).toBe('1 image and 2 other files');
    expect(describePicked(Array.from({ length: 5000 }, (_, i) => ({ path: `x/${i}.png` })))).toBe('5,000 images');
  });
});
