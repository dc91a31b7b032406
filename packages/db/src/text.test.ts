import { describe, expect, it } from 'vitest';
import { sanitizeJson, sanitizeText, unstorableTextProblem } from './text.ts';

describe('text Postgres can store', () => {
  it('finds NUL and lone surrogates, not valid pairs', () => {
    expect(unstorableTextProblem('plain ✓ 😀')).toBeNull();
    expect(unstorableTextProblem('a\u0000b')).toMatch(/NUL/);
    expect(unstorableTextProblem('a\uD800b')).toMatch(/surrogate/);
    expect(unstorableTextProblem('a\uDC00')).toMatch(/surrogate/);
  });

  it('sanitises: NUL dropped, lone surrogates replaced, pairs kept, JSON keys and values', () => {
    expect(sanitizeText('a\u0000b\uD800c😀')).toBe('ab\uFFFDc😀');
    expect(sanitizeJson({ 'k\u0000': ['x\u0000', 1, null, { y: '\uDC00' }] })).toEqual({
      k: ['x', 1, null, { y: '\uFFFD' }],
    });
  });
});
