import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { InvalidArgumentError, SizeMismatchError } from './errors.ts';
import type { ObjectBody } from './object-store.ts';

export function checkSize(size: unknown, field = 'size'): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidArgumentError(`${field} must be a non-negative integer byte count (got ${String(size)})`);
  }
  return size;
}

/**
 * Passes bytes through, counting them (and hashing with md5 when asked). Fails with SizeMismatchError
 * as soon as more than `expected` bytes arrive, or at the end when fewer did, so a wrong body is
 * caught before anything is committed.
 */
export class SizeCheckStream extends Transform {
  bytes = 0;
  private readonly hash: Hash | undefined;
  private readonly what: string;

  constructor(
    private readonly expected: number,
    options: { md5?: boolean; what?: string } = {},
  ) {
    super();
    this.hash = options.md5 ? createHash('md5') : undefined;
    this.what = options.what ?? 'body';
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.expected) {
      callback(new SizeMismatchError(this.expected, 'more', this.what));
      return;
    }
    this.hash?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes !== this.expected) {
      callback(new SizeMismatchError(this.expected, this.bytes, this.what));
      return;
    }
    callback();
  }

  /** md5 hex of everything that passed; only valid after the stream ended. */
  md5Hex(): string {
    if (!this.hash) throw new Error('SizeCheckStream was created without md5');
    return this.hash.digest('hex');
  }
}

/** Buffers are checked up front (no I/O starts); streams are wrapped in a SizeCheckStream. */
export function sizedBody(
  body: ObjectBody,
  size: number,
  options: { md5?: boolean; what?: string } = {},
): SizeCheckStream {
  checkSize(size);
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
    if (body.byteLength !== size) throw new SizeMismatchError(size, body.byteLength, options.what);
    const check = new SizeCheckStream(size, options);
    check.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    return check;
  }
  if (!(body instanceof Readable)) {
    throw new InvalidArgumentError('body must be a Readable, Buffer or Uint8Array');
  }
  const check = new SizeCheckStream(size, options);
  // The consumer may attach its listeners only after some awaits, and a short source can fail the check
  // before that. The error is kept on the stream (check.errored) and reaches the consumer's pipeline or
  // for-await anyway; this listener only stops it from being reported as uncaught meanwhile.
  check.on('error', () => {});
  // pipe() does not forward errors: a failing source must fail the check stream too. A source that closes
  // without ending (an HTTP upload whose client went away) would otherwise leave the check waiting forever.
  body.once('error', (error) => check.destroy(error));
  body.once('close', () => {
    if (!body.readableEnded && !check.destroyed) check.destroy(new SizeMismatchError(size, check.bytes, options.what));
  });
  body.pipe(check);
  return check;
}
