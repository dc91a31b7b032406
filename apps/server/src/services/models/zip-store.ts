import { crc32 } from 'node:zlib';
import { Readable } from 'node:stream';

/**
 * A minimal streaming ZIP writer (method 0 = stored, no compression): weights do not compress, and
 * storing lets the exact archive size be known before a byte is written (object stores need the size up
 * front). CRC-32s are computed while streaming and written in data descriptors (flag bit 3), so each file is
 * read once. No ZIP64: every file and the archive must stay under 4 GiB.
 */
export interface ZipEntry {
  /** Path inside the archive (ASCII, `/` separated). */
  name: string;
  size: number;
  open(): Promise<AsyncIterable<Uint8Array>>;
}

const LOCAL_HEADER = 30;
const DATA_DESCRIPTOR = 16;
const CENTRAL_HEADER = 46;
const END_OF_CENTRAL_DIR = 22;
const MAX_ZIP32 = 0xffff_ffff;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;

/** Exact byte length of the archive zipStream writes for these entries. */
export function zipSize(entries: readonly Pick<ZipEntry, 'name' | 'size'>[]): number {
  let total = END_OF_CENTRAL_DIR;
  for (const e of entries) {
    const n = Buffer.byteLength(e.name);
    total += LOCAL_HEADER + n + e.size + DATA_DESCRIPTOR + CENTRAL_HEADER + n;
  }
  return total;
}

export function zipStream(entries: readonly ZipEntry[], modified = new Date()): Readable {
  const total = zipSize(entries);
  if (total > MAX_ZIP32)
    throw new RangeError(`export archive would be ${total} bytes; the limit without ZIP64 is ${MAX_ZIP32}`);
  const { time, date } = dosDateTime(modified);
  async function* generate(): AsyncGenerator<Buffer> {
    const central: Buffer[] = [];
    let offset = 0;
    for (const entry of entries) {
      const name = Buffer.from(entry.name, 'utf8');
      const local = Buffer.alloc(LOCAL_HEADER);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4); // version needed: 2.0
      local.writeUInt16LE(FLAG_DATA_DESCRIPTOR | FLAG_UTF8, 6);
      local.writeUInt16LE(0, 8); // stored
      local.writeUInt16LE(time, 10);
      local.writeUInt16LE(date, 12);
      // crc and sizes are 0 here; the data descriptor carries them
      local.writeUInt16LE(name.length, 26);
      yield local;
      yield name;
      let crc = 0;
      let written = 0;
      for await (const chunk of await entry.open()) {
        crc = crc32(chunk, crc);
        written += chunk.length;
        yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
      if (written !== entry.size)
        throw new Error(`zip entry ${entry.name}: expected ${entry.size} bytes, read ${written}`);
      const descriptor = Buffer.alloc(DATA_DESCRIPTOR);
      descriptor.writeUInt32LE(0x08074b50, 0);
      descriptor.writeUInt32LE(crc, 4);
      descriptor.writeUInt32LE(entry.size, 8);
      descriptor.writeUInt32LE(entry.size, 12);
      yield descriptor;
      const header = Buffer.alloc(CENTRAL_HEADER);
      header.writeUInt32LE(0x02014b50, 0);
      header.writeUInt16LE(20, 4); // made by: 2.0
      header.writeUInt16LE(20, 6);
      header.writeUInt16LE(FLAG_DATA_DESCRIPTOR | FLAG_UTF8, 8);
      header.writeUInt16LE(0, 10);
      header.writeUInt16LE(time, 12);
      header.writeUInt16LE(date, 14);
      header.writeUInt32LE(crc, 16);
      header.writeUInt32LE(entry.size, 20);
      header.writeUInt32LE(entry.size, 24);
      header.writeUInt16LE(name.length, 28);
      header.writeUInt32LE(offset, 42);
      central.push(header, name);
      offset += LOCAL_HEADER + name.length + entry.size + DATA_DESCRIPTOR;
    }
    const centralStart = offset;
    let centralSize = 0;
    for (const b of central) {
      centralSize += b.length;
      yield b;
    }
    const end = Buffer.alloc(END_OF_CENTRAL_DIR);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(entries.length, 8);
    end.writeUInt16LE(entries.length, 10);
    end.writeUInt32LE(centralSize, 12);
    end.writeUInt32LE(centralStart, 16);
    yield end;
  }
  return Readable.from(generate(), { objectMode: false });
}

function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.max(1980, d.getUTCFullYear());
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}
