import { InvalidKeyError } from './errors.ts';

// Keys are built by our services from ids and fixed segments, never from raw user input (file names
// from a browser go into the database, not into keys). The narrow alphabet keeps keys safe as file
// paths for DiskStore, needing no URL escaping, and identical across S3 implementations.
export const MAX_KEY_LENGTH = 512;
const KEY_CHARS = /^[a-z0-9/._-]+$/;

function checkSegments(value: string, what: string): void {
  if (value.length > MAX_KEY_LENGTH) {
    throw new InvalidKeyError(`${what} is ${value.length} characters long; the limit is ${MAX_KEY_LENGTH}`);
  }
  if (!KEY_CHARS.test(value)) {
    throw new InvalidKeyError(`${what} '${value}' may only contain a-z, 0-9, '/', '.', '_' and '-'`);
  }
  if (value.startsWith('/')) throw new InvalidKeyError(`${what} '${value}' must not start with '/'`);
  const segments = value.split('/');
  // A trailing '/' leaves one empty last segment; that is allowed for prefixes only (checked by callers).
  const inner = value.endsWith('/') ? segments.slice(0, -1) : segments;
  for (const segment of inner) {
    if (segment === '') throw new InvalidKeyError(`${what} '${value}' contains an empty segment ('//')`);
    if (segment === '.' || segment === '..') {
      throw new InvalidKeyError(`${what} '${value}' contains a '${segment}' segment`);
    }
  }
}

/** Validates an object key and returns it unchanged. Throws InvalidKeyError naming the rule broken. */
export function objectKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidKeyError('key must be a non-empty string');
  checkSegments(key, 'key');
  if (key.endsWith('/')) throw new InvalidKeyError(`key '${key}' must not end with '/'`);
  return key;
}

/** Joins segments with '/' and validates the result: `ObjectKey.join('datasets', id, 'manifest.json')`. */
function join(...segments: string[]): string {
  return objectKey(segments.join('/'));
}

/** A listing prefix: '' (everything) or a key-shaped string that may end with '/'. */
export function listPrefix(prefix: string): string {
  if (typeof prefix !== 'string') throw new InvalidKeyError('prefix must be a string');
  if (prefix === '') return prefix;
  checkSegments(prefix, 'prefix');
  return prefix;
}

/**
 * A prefix for deletion must name a "folder": non-empty and ending in '/', so that deleting
 * 'runs/1/' can never take 'runs/10/...' with it, and an empty string never wipes the store.
 */
export function deletionPrefix(prefix: string): string {
  listPrefix(prefix);
  if (prefix === '' || !prefix.endsWith('/')) {
    throw new InvalidKeyError(`prefix '${prefix}' for deletePrefix must be non-empty and end with '/'`);
  }
  return prefix;
}

export const ObjectKey = { validate: objectKey, join, listPrefix, deletionPrefix, MAX_LENGTH: MAX_KEY_LENGTH };
