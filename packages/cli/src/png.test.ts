import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodePng, encodePng, tileGrid, type RgbImage } from './png.ts';

/** An 8-bit PNG of `channels` (1 grey, 2 grey+alpha, 4 RGBA) whose every row is written with PNG filter `filter`. */
function pngOf(width: number, height: number, channels: 1 | 2 | 4, pixels: number[], filter: 0 | 1 | 2 | 3 | 4) {
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = filter;
    for (let x = 0; x < stride; x++) {
      const at = y * stride + x;
      const a = x >= channels ? pixels[at - channels]! : 0;
      const b = y > 0 ? pixels[at - stride]! : 0;
      const c = x >= channels && y > 0 ? pixels[at - stride - channels]! : 0;
      const p = a + b - c;
      const paeth =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
          ? a
          : Math.abs(p - b) <= Math.abs(p - c)
            ? b
            : c;
      const predicted = [0, a, b, (a + b) >> 1, paeth][filter]!;
      raw[y * (stride + 1) + 1 + x] = (pixels[at]! - predicted) & 255;
    }
  }
  // A chunk's CRC is not checked by decodePng, so zeros do here.
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = { 1: 0, 2: 4, 4: 6 }[channels];
  return Buffer.concat([
    encodePng({ width: 1, height: 1, rgb: new Uint8Array(3) }).subarray(0, 8),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const ramp = (n: number) => Array.from({ length: n }, (_, i) => (i * 37 + 11) % 256);

describe("the CLI's PNG codec", () => {
  it('decodes every row filter of a grey PNG, repeating grey over R, G and B', () => {
    const grey = ramp(5 * 3);
    const expected = grey.flatMap((v) => [v, v, v]);
    for (const filter of [0, 1, 2, 3, 4] as const) {
      const image = decodePng(pngOf(5, 3, 1, grey, filter));
      expect([image.width, image.height, filter]).toEqual([5, 3, filter]);
      expect(Array.from(image.rgb)).toEqual(expected);
    }
  });

  it('drops alpha from grey+alpha and RGBA PNGs', () => {
    const ga = ramp(4 * 2 * 2);
    expect(Array.from(decodePng(pngOf(4, 2, 2, ga, 4)).rgb)).toEqual(
      ga.filter((_, i) => i % 2 === 0).flatMap((v) => [v, v, v]),
    );
    const rgba = ramp(3 * 2 * 4);
    expect(Array.from(decodePng(pngOf(3, 2, 4, rgba, 1)).rgb)).toEqual(rgba.filter((_, i) => i % 4 !== 3));
  });

  it('round-trips what it encodes, and names the file it cannot read', () => {
    const image: RgbImage = { width: 3, height: 2, rgb: Uint8Array.from(ramp(3 * 2 * 3)) };
    const back = decodePng(encodePng(image));
    expect({ ...back, rgb: Array.from(back.rgb) }).toEqual({ ...image, rgb: Array.from(image.rgb) });
    expect(() => decodePng(Buffer.from('GIF89a'), 'cats-00.gif')).toThrow('cats-00.gif is not a PNG');
  });

  it('tiles images in rows of `columns` with white gaps', () => {
    const tile = (v: number): RgbImage => ({ width: 2, height: 2, rgb: new Uint8Array(12).fill(v) });
    const grid = tileGrid([tile(10), tile(20), tile(30)], 2, 1);
    expect([grid.width, grid.height]).toEqual([5, 5]);
    const at = (x: number, y: number) => grid.rgb[(y * grid.width + x) * 3];
    expect([at(0, 0), at(1, 1), at(2, 0), at(3, 0), at(4, 1), at(0, 3), at(4, 4)]).toEqual([
      10, 10, 255, 20, 20, 30, 255,
    ]);
  });
});
