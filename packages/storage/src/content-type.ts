import { InvalidArgumentError } from './errors.ts';

// A content type ends up in HTTP headers and (for DiskStore) in signed strings: no control characters.
const CONTENT_TYPE = /^[\x20-\x7e]{1,200}$/;

export function checkContentType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  if (!CONTENT_TYPE.test(contentType) || !contentType.includes('/')) {
    throw new InvalidArgumentError(
      `contentType must be a MIME type like 'image/png' of printable ASCII, at most 200 characters (got ${JSON.stringify(contentType)})`,
    );
  }
  return contentType;
}
