import { describe, expect, it } from 'vitest';
import { EnvError, loadEnv } from './env.ts';

describe('loadEnv', () => {
  it('applies defaults for an empty environment', () => {
    expect(loadEnv({})).toMatchObject({ PORT: 4000, HOST: '127.0.0.1', DAPPLE_DATA_DIR: '.dapple', LOG_LEVEL: 'info' });
  });

  it('takes sign-ups by invitation unless DAPPLE_SIGNUP=open', () => {
    expect(loadEnv({}).DAPPLE_SIGNUP).toBe('invite');
    expect(loadEnv({ DAPPLE_SIGNUP: '' }).DAPPLE_SIGNUP).toBe('invite');
    expect(loadEnv({ DAPPLE_SIGNUP: 'open' }).DAPPLE_SIGNUP).toBe('open');
    expect(() => loadEnv({ DAPPLE_SIGNUP: 'closed' })).toThrow(/DAPPLE_SIGNUP: must be invite or open/);
  });

  it('treats empty strings as unset', () => {
    expect(loadEnv({ DATABASE_URL: '', S3_ENDPOINT: ' ' }).DATABASE_URL).toBeUndefined();
  });

  it('names every bad variable in one readable error', () => {
    let error: unknown;
    try {
      loadEnv({ PORT: 'abc', DATABASE_URL: 'mysql://x', DAPPLE_SECRET: 'short', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EnvError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'DATABASE_URL', 'DAPPLE_SECRET: must be at least 32 characters', 'LOG_LEVEL']) {
      expect(message).toContain(name);
    }
  });

  it('requires all S3 variables once one is set', () => {
    expect(() => loadEnv({ S3_ENDPOINT: 'http://127.0.0.1:9000', S3_BUCKET: 'b' })).toThrow(
      /S3_ACCESS_KEY: is required when S3_ENDPOINT, S3_BUCKET is set/,
    );
    const env = loadEnv({
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_BUCKET: 'b',
      S3_ACCESS_KEY: 'k',
      S3_SECRET_KEY: 's',
    });
    expect(env.S3_BUCKET).toBe('b');
  });
});
