import type { Readable } from 'node:stream';

/** Re-chunks a stream into blocks of exactly `blockSize` bytes (the last one may be shorter). */
export async function* readBlocks(stream: Readable, blockSize: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of stream) {
    let data = chunk as Buffer;
    while (data.length > 0) {
      const take = Math.min(blockSize - pendingBytes, data.length);
      pending.push(data.subarray(0, take));
      pendingBytes += take;
      data = data.subarray(take);
      if (pendingBytes === blockSize) {
        yield Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}
