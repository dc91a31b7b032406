import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

export async function md5OfStream(
  stream: AsyncIterable<unknown> | Iterable<unknown>,
): Promise<{ md5: string; bytes: number }> {
  const hash = createHash('md5');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { md5: hash.digest('hex'), bytes };
}

/**
 * A large body generated on the fly (never held in memory whole): 1 MiB chunks of one random block,
 * each stamped with its index so that misordered or repeated chunks change the hash.
 */
export function generatedBody(
  totalBytes: number,
  chunkBytes = 1024 * 1024,
): { stream: () => Readable; md5: () => Promise<string> } {
  const block = randomBytes(chunkBytes);
  function* chunks() {
    for (let offset = 0, index = 0; offset < totalBytes; offset += chunkBytes, index++) {
      const chunk = Buffer.from(block.subarray(0, Math.min(chunkBytes, totalBytes - offset)));
      chunk.writeUInt32BE(index, 0);
      yield chunk;
    }
  }
  return {
    stream: () => Readable.from(chunks(), { objectMode: false }),
    md5: async () => (await md5OfStream(chunks())).md5,
  };
}

export function uniquePrefix(): string {
  return `t/${randomBytes(6).toString('hex')}/`;
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}
