import { ArchiveError } from '../errors.ts';

/**
 * Pull-based reader over an async stream of chunks, for parsing archive formats sequentially.
 * It buffers only what a caller asked for (plus the rest of one source chunk), and can take back
 * bytes a decoder read too far (`unshift`), which the streaming zip reader needs.
 */
export class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  /** Bytes handed out so far (after unshifts), i.e. the offset of the next byte in the source. */
  position = 0;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  static from(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): ByteReader {
    if (Symbol.asyncIterator in source) return new ByteReader(source[Symbol.asyncIterator]());
    const iterator = source[Symbol.iterator]();
    return new ByteReader({
      next: async () => iterator.next(),
      return: async () => iterator.return?.() ?? { done: true, value: undefined },
    });
  }

  private async fill(wanted: number): Promise<void> {
    while (this.buffered < wanted && !this.ended) {
      const next = await this.source.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
      if (chunk.length === 0) continue;
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.chunks[0]!;
        const part = Math.min(chunk.length, n - filled);
        chunk.copy(out, filled, 0, part);
        filled += part;
        if (part === chunk.length) this.chunks.shift();
        else this.chunks[0] = chunk.subarray(part);
      }
    }
    this.buffered -= n;
    this.position += n;
    return out;
  }

  /** Exactly n bytes, or a `truncated_archive` error naming what was being read. */
  async readExact(n: number, what: string): Promise<Buffer> {
    if (n === 0) return Buffer.alloc(0);
    await this.fill(n);
    if (this.buffered < n) {
      throw new ArchiveError(
        'truncated_archive',
        `archive ends early while reading ${what} (needed ${n} bytes, ${this.buffered} left)`,
      );
    }
    return this.take(n);
  }

  /** Between 1 and max bytes (whatever is buffered or arrives next), or null at the end of the source. */
  async readUpTo(max: number): Promise<Buffer | null> {
    if (this.buffered === 0) await this.fill(1);
    if (this.buffered === 0) return null;
    return this.take(Math.min(max, this.chunks[0]!.length));
  }

  /** Up to n bytes without consuming them (fewer only at the end of the source). */
  async peek(n: number): Promise<Buffer> {
    await this.fill(n);
    const have = Math.min(n, this.buffered);
    const out = this.take(have);
    this.unshift(out);
    return out;
  }

  unshift(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.chunks.unshift(bytes);
    this.buffered += bytes.length;
    this.position -= bytes.length;
  }

  async skip(n: number, what: string): Promise<void> {
    let left = n;
    while (left > 0) {
      const chunk = await this.readUpTo(left);
      if (!chunk) throw new ArchiveError('truncated_archive', `archive ends early while skipping ${what}`);
      left -= chunk.length;
    }
  }

  /** Everything not read yet, as chunks (for handing the rest of a source to another decoder). */
  async *rest(): AsyncGenerator<Buffer> {
    for (;;) {
      const chunk = await this.readUpTo(Number.MAX_SAFE_INTEGER);
      if (!chunk) return;
      yield chunk;
    }
  }

  /** Stops the underlying source (e.g. closes the file) when parsing ends early. */
  async close(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    if (!this.ended) {
      this.ended = true;
      await this.source.return?.();
    }
  }
}
