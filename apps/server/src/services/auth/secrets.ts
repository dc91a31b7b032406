import { createHash, randomBytes } from 'node:crypto';

export const API_TOKEN_PREFIX = 'dpl_';
/** How many characters of an API token are kept in clear so users can tell tokens apart. */
export const API_TOKEN_DISPLAY_LENGTH = API_TOKEN_PREFIX.length + 8;

/** 32 random bytes, base64url: 256 bits of entropy, so a plain SHA-256 is a safe way to store it. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function newApiTokenSecret(): { secret: string; prefix: string; hash: string } {
  const secret = API_TOKEN_PREFIX + randomSecret();
  return { secret, prefix: secret.slice(0, API_TOKEN_DISPLAY_LENGTH), hash: sha256Hex(secret) };
}

export function looksLikeApiToken(value: string): boolean {
  return value.startsWith(API_TOKEN_PREFIX) && value.length > API_TOKEN_DISPLAY_LENGTH;
}
