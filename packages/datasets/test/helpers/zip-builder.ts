import zlib from 'node:zlib';

export interface ZipMember {
  name: string;
  data: Buffer;
  /** 0 stored, 8 deflate (default). */
  method?: 0 | 8;
  /** Write sizes and CRC in a trailing data descriptor (flag bit 3), as macOS does. */
  descriptor?: boolean;
  /** Unix mode for the central directory (e.g. 0o120777 for a symlink). */
  unixMode?: number;
  /** Lie in the local header: claim this uncompressed size. */
  claimedSize?: number;
}

/** Builds a zip byte for byte, so tests can make malicious ones that no real tool would write. */
export function buildZip(members: ZipMember[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const method = m.method ?? 8;
    const body = method === 8 ? zlib.deflateRawSync(m.data) : m.data;
    const crc = zlib.crc32(m.data) >>> 0;
    const name = Buffer.from(m.name, 'utf8');
    const flags = 0x800 | (m.descriptor ? 0x8 : 0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(m.descriptor ? 0 : crc, 14);
    local.writeUInt32LE(m.descriptor ? 0 : body.length, 18);
    local.writeUInt32LE(m.descriptor ? 0 : (m.claimedSize ?? m.data.length), 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const entryParts = [local, name, body];
    if (m.descriptor) {
      const d = Buffer.alloc(16);
      d.writeUInt32LE(0x08074b50, 0);
      d.writeUInt32LE(crc, 4);
      d.writeUInt32LE(body.length, 8);
      d.writeUInt32LE(m.claimedSize ?? m.data.length, 12);
      entryParts.push(d);
    }
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE((3 << 8) | 20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(flags, 8);
    c.writeUInt16LE(method, 10);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(body.length, 20);
    c.writeUInt32LE(m.data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(((m.unixMode ?? 0o100644) << 16) >>> 0, 38);
    c.writeUInt32LE(offset, 42);
    central.push(c, name);
    const entry = Buffer.concat(entryParts);
    parts.push(entry);
    offset += entry.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cd, end]);
}
