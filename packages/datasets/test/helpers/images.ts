import sharp from 'sharp';

/** Deterministic RGB(A) pixels: a gradient seeded by `seed`, so different seeds give different bytes. */
export function gradient(width: number, height: number, channels: 3 | 4, seed = 0): Buffer {
  const out = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      out[i] = (x * 5 + seed * 37) % 256;
      out[i + 1] = (y * 3 + seed * 11) % 256;
      out[i + 2] = (x + y + seed * 97) % 256;
      if (channels === 4) out[i + 3] = 255;
    }
  }
  return out;
}

export function solid(width: number, height: number, rgb: [number, number, number]): Buffer {
  const out = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) out.set(rgb, i * 3);
  return out;
}

export async function encode(
  raw: Buffer,
  width: number,
  height: number,
  channels: 3 | 4,
  format: 'png' | 'jpeg' | 'webp' | 'gif',
): Promise<Buffer> {
  const image = sharp(raw, { raw: { width, height, channels } });
  if (format === 'jpeg') return image.jpeg({ quality: 90 }).toBuffer();
  if (format === 'webp') return image.webp({ lossless: true }).toBuffer();
  if (format === 'gif') return image.gif().toBuffer();
  return image.png().toBuffer();
}

export async function png(width: number, height: number, seed = 0): Promise<Buffer> {
  return encode(gradient(width, height, 3, seed), width, height, 3, 'png');
}

/** Two-frame GIF: frame 0 solid red, frame 1 solid blue. */
export async function animatedGif(width: number, height: number): Promise<Buffer> {
  const red = await encode(solid(width, height, [255, 0, 0]), width, height, 3, 'png');
  const blue = await encode(solid(width, height, [0, 0, 255]), width, height, 3, 'png');
  return sharp([red, blue], { join: { animated: true } })
    .gif()
    .toBuffer();
}
