import { describe, expect, it } from 'vitest';
import { safeReturnPath, slugify, SLUG_PATTERN } from './paths';

describe('slugify', () => {
  it.each([
    ['Vision Lab', 'vision-lab'],
    ['  Café Crème  ', 'cafe-creme'],
    ['R&D — Diffusion 2', 'r-d-diffusion-2'],
    ['---', ''],
    ['a'.repeat(39) + ' b', 'a'.repeat(39)],
  ])('%j → %j', (name, slug) => {
    expect(slugify(name)).toBe(slug);
  });

  it('always produces a slug the server accepts (or nothing)', () => {
    for (const name of ['Team 1', 'x', 'Ünïcode Team!!', 'trailing-', `${'long '.repeat(20)}`]) {
      const slug = slugify(name);
      expect(slug === '' || SLUG_PATTERN.test(slug), `${name} → ${slug}`).toBe(true);
    }
  });
});

describe('safeReturnPath', () => {
  it('accepts paths on this site', () => {
    expect(safeReturnPath('/invite/abc')).toBe('/invite/abc');
    expect(safeReturnPath(['/t/a', '/t/b'])).toBe('/t/a');
  });

  it.each(['//evil.example', 'https://evil.example', '/\\evil.example', 'javascript:alert(1)', '', undefined, null])(
    'refuses %j',
    (value) => {
      expect(safeReturnPath(value)).toBeNull();
    },
  );
});
