import { createHash } from 'node:crypto';

export type ReadResult = { ok: true; bytes: Buffer } | { ok: false; size: number; sha256: string };

/**
 * Reads a stream into one Buffer if it fits in `limit` bytes. A longer stream is not kept: it is
 * read to the end only to report its size and SHA-256, so memory stays at `limit`.
 */
export async function readBounded(source: AsyncIterable<Uint8Array>, limit: number): Promise<ReadResult> {
  const parts: Buffer[] = [];
  let size = 0;
  let hash: ReturnType<typeof createHash> | null = null;
  for await (const chunk of source) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += buffer.length;
    if (hash) {
      hash.update(buffer);
      continue;
    }
    parts.push(buffer);
    if (size > limit) {
      hash = createHash('sha256');
      for (const part of parts) hash.update(part);
      parts.length = 0;
    }
  }
  if (hash) return { ok: false, size, sha256: hash.digest('hex') };
  return { ok: true, bytes: parts.length === 1 ? parts[0]! : Buffer.concat(parts, size) };
}
