// Reads groups of picked small files off the main thread (see read-ahead.ts): Chromium's Blob constructor costs
// ~0.4 ms per File on the thread that calls it (2 s for 5,000 files, measured here under load), which on the
// page delayed the Upload click and the first requests by as much. The bytes come back transferred, not copied,
// with each file's CRC-32 when the upload sends zip packs.
import { crc32 } from '@dapple/contracts/upload-zip';
import type { ReadReply, ReadRequest } from './read-protocol';

interface WorkerScope {
  onmessage: ((event: MessageEvent<ReadRequest>) => void) | null;
  postMessage(message: ReadReply, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

scope.onmessage = (event) => void read(event.data);

async function read({ id, files, crcs }: ReadRequest): Promise<void> {
  let buffer: ArrayBuffer;
  try {
    buffer = await new Blob(files).arrayBuffer();
  } catch {
    // One of them changed since it was picked: the page reads it again when its part is sent, and names it.
    return scope.postMessage({ id, buffer: null, crcs: null });
  }
  let at = 0;
  const sums = crcs
    ? files.map((file) => {
        const sum = crc32(new Uint8Array(buffer, at, file.size));
        at += file.size;
        return sum;
      })
    : null;
  scope.postMessage({ id, buffer, crcs: sums }, [buffer]);
}
