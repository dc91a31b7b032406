import { describe, expect, it } from 'vitest';
import { toFieldErrors } from './form-errors';

describe('toFieldErrors', () => {
  it('puts an error next to the field the server named, without repeating the field name', () => {
    const errors = toFieldErrors(
      [{ code: 'BAD_USER_INPUT', field: 'email', message: 'email: must be a valid email address' }],
      ['email', 'password'],
    );
    expect(errors).toEqual({ email: 'Must be a valid email address' });
  });

  it('understands nested field paths', () => {
    const errors = toFieldErrors(
      [{ code: 'BAD_USER_INPUT', field: 'input.slug', message: 'input.slug: must be lowercase' }],
      ['name', 'slug'],
    );
    expect(errors).toEqual({ slug: 'Must be lowercase' });
  });

  it('assigns field-less errors by code, and anything else to the form', () => {
    const errors = toFieldErrors(
      [
        { code: 'UNAUTHENTICATED', message: 'Wrong email or password' },
        { code: 'RATE_LIMITED', message: 'Too many failed attempts; try again in 30 s' },
      ],
      ['email', 'password'],
      { UNAUTHENTICATED: 'password' },
    );
    expect(errors).toEqual({
      password: 'Wrong email or password',
      form: 'Too many failed attempts; try again in 30 s',
    });
  });

  it('sends errors about fields the form does not have to the form', () => {
    expect(
      toFieldErrors(
        [{ code: 'BAD_USER_INPUT', field: 'teamId', message: 'teamId: must be a valid team id' }],
        ['email'],
      ),
    ).toEqual({
      form: 'teamId: must be a valid team id',
    });
  });
});
