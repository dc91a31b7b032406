import { crc32, deflateSync, inflateSync } from 'node:zlib';

// Just enough PNG for `dapple samples --grid`: decode the hub's sample PNGs (8-bit, non-interlaced, grey / grey+alpha
// / RGB / RGBA) and encode one RGB grid. The CLI has no image library (sharp's native build is not worth it here).

export interface RgbImage {
  width: number;
  height: number;
  /** width × height × 3 bytes, row-major. */
  rgb: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

export function decodePng(bytes: Uint8Array, name = 'image'): RgbImage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(SIGNATURE)) throw new Error(`${name} is not a PNG`);
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at + 8 <= buf.length;) {
    const length = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8];
      const colour = data[9]!;
      channels = CHANNELS[colour] ?? 0;
      if (depth !== 8 || channels === 0 || data[12] !== 0)
        throw new Error(`${name}: only 8-bit non-interlaced grey/RGB(A) PNGs are supported`);
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    at += 12 + length;
  }
  if (!width || !height) throw new Error(`${name}: PNG without IHDR`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[row + x - channels]! : 0;
      const b = y > 0 ? pixels[row - stride + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[row - stride + x - channels]! : 0;
      const v = line[x]!;
      let out: number;
      if (filter === 0) out = v;
      else if (filter === 1) out = v + a;
      else if (filter === 2) out = v + b;
      else if (filter === 3) out = v + ((a + b) >> 1);
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        out = v + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      } else throw new Error(`${name}: bad PNG filter ${filter}`);
      pixels[row + x] = out & 255;
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const p = i * channels;
    const grey = channels < 3;
    rgb[i * 3] = pixels[p]!;
    rgb[i * 3 + 1] = pixels[grey ? p : p + 1]!;
    rgb[i * 3 + 2] = pixels[grey ? p : p + 2]!;
  }
  return { width, height, rgb };
}

export function encodePng(image: RgbImage): Buffer {
  const stride = image.width * 3;
  const raw = Buffer.alloc((stride + 1) * image.height);
  for (let y = 0; y < image.height; y++)
    raw.set(image.rgb.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(image.width, 0);
  ihdr.writeUInt32BE(image.height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/**
 * Images in rows of `columns` (all the size of the first), `gap` pixels of white between them. A grid of one
 * label per row is `columns` = images per label.
 */
export function tileGrid(images: readonly RgbImage[], columns: number, gap = 2): RgbImage {
  const first = images[0];
  if (!first) throw new Error('no images to tile');
  const rows = Math.ceil(images.length / columns);
  const width = columns * first.width + (columns - 1) * gap;
  const height = rows * first.height + (rows - 1) * gap;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  images.forEach((img, i) => {
    const ox = (i % columns) * (first.width + gap);
    const oy = Math.floor(i / columns) * (first.height + gap);
    for (let y = 0; y < Math.min(img.height, first.height); y++) {
      const src = img.rgb.subarray(y * img.width * 3, (y * img.width + Math.min(img.width, first.width)) * 3);
      rgb.set(src, ((oy + y) * width + ox) * 3);
    }
  });
  return { width, height, rgb };
}
