import { Readable } from 'node:stream';

/** Collects what prepareDataset writes, in write order; the tests' stand-in for an object store prefix. */
export class MemoryObjects {
  readonly objects = new Map<string, Buffer>();
  readonly order: string[] = [];

  write = async (name: string, data: Readable | Buffer, size: number): Promise<void> => {
    let bytes: Buffer;
    if (Buffer.isBuffer(data)) bytes = data;
    else {
      const parts: Buffer[] = [];
      for await (const chunk of data) parts.push(chunk as Buffer);
      bytes = Buffer.concat(parts);
    }
    if (bytes.length !== size) throw new Error(`${name}: writeObject was told ${size} bytes but got ${bytes.length}`);
    this.objects.set(name, bytes);
    this.order.push(name);
  };

  open = async (name: string): Promise<AsyncIterable<Uint8Array>> => {
    const bytes = this.objects.get(name);
    if (!bytes) throw new Error(`no object ${name}`);
    return Readable.from([bytes.subarray(0, 100), bytes.subarray(100)]);
  };
}
