export interface TarMember {
  name: string;
  data?: Buffer;
  /** '0' file (default), '1' hardlink, '2' symlink, '3' char device, '5' directory, 'L' GNU long name. */
  type?: string;
  linkname?: string;
}

/** Builds a ustar archive byte for byte (so tests can write entries that `tar` would refuse to). */
export function buildTar(members: TarMember[]): Buffer {
  const blocks: Buffer[] = [];
  for (const m of members) {
    const data = m.data ?? Buffer.alloc(0);
    if (Buffer.byteLength(m.name) > 100) {
      const long = Buffer.from(`${m.name}\0`);
      blocks.push(header('././@LongLink', long.length, 'L', ''), pad(long));
    }
    blocks.push(header(m.name.slice(0, 100), data.length, m.type ?? '0', m.linkname ?? ''), pad(data));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function header(name: string, size: number, type: string, linkname: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.write(type, 156, 'latin1');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

function pad(data: Buffer): Buffer {
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(padded);
  return padded;
}
