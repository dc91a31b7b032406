import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { animatedGif, encode, gradient, png, solid } from '../test/helpers/images.ts';
import { processImage, sniffImageType } from './image.ts';

const options = { resolution: 16, channels: 3 as const, maxImagePixels: 1_000_000 };

describe('processImage', () => {
  it('decodes PNG, JPEG, WebP and GIF to raw HWC uint8 at the resolution', async () => {
    for (const format of ['png', 'jpeg', 'webp', 'gif'] as const) {
      const bytes = await encode(solid(24, 20, [200, 100, 50]), 24, 20, 3, format);
      const result = await processImage(bytes, options);
      expect(result.ok, format).toBe(true);
      if (!result.ok) continue;
      expect(result.format).toBe(format);
      expect(result.pixels.length).toBe(16 * 16 * 3);
      const tolerance = format === 'jpeg' || format === 'gif' ? 12 : 1;
      expect(Math.abs(result.pixels[0]! - 200), format).toBeLessThanOrEqual(tolerance);
      expect(Math.abs(result.pixels[1]! - 100), format).toBeLessThanOrEqual(tolerance);
    }
  });

  it('matches sharp resize(cover, lanczos3) exactly: shorter side resized, centre cropped', async () => {
    const raw = gradient(40, 20, 3, 1);
    const bytes = await encode(raw, 40, 20, 3, 'png');
    const result = await processImage(bytes, options);
    const expected = await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } })
      .resize(16, 16, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    expect(result.ok && Buffer.from(result.pixels).equals(expected)).toBe(true);
  });

  it('uses only the first frame of an animated GIF', async () => {
    const result = await processImage(await animatedGif(20, 20), options);
    expect(result.ok).toBe(true);
    if (result.ok) expect([...result.pixels.subarray(0, 3)]).toEqual([255, 0, 0]);
  });

  it('produces 1 channel for grayscale datasets and composites alpha onto black', async () => {
    const rgba = Buffer.alloc(20 * 20 * 4);
    for (let i = 0; i < 400; i++) rgba.set([255, 255, 255, 0], i * 4); // fully transparent white
    const bytes = await encode(rgba, 20, 20, 4, 'png');
    const gray = await processImage(bytes, { ...options, channels: 1 });
    expect(gray.ok && gray.pixels.length).toBe(256);
    expect(gray.ok && Math.max(...gray.pixels)).toBe(0);
    const rgb = await processImage(bytes, options);
    expect(rgb.ok && Math.max(...rgb.pixels)).toBe(0);
  });

  it('rejects each bad input with its reason', async () => {
    const good = await png(40, 40);
    expect(await processImage(Buffer.from('hello, not an image'), options)).toMatchObject({
      ok: false,
      reason: 'unsupported_type',
    });
    const bmp = Buffer.concat([Buffer.from('BM'), Buffer.alloc(100)]);
    expect(await processImage(bmp, options)).toMatchObject({ ok: false, reason: 'unsupported_type' });
    expect(await processImage(good.subarray(0, good.length - 40), options)).toMatchObject({
      ok: false,
      reason: 'corrupt',
    });
    const jpeg = await encode(gradient(40, 40, 3), 40, 40, 3, 'jpeg');
    expect(await processImage(jpeg.subarray(0, jpeg.length / 2), options)).toMatchObject({
      ok: false,
      reason: 'corrupt',
    });
    expect(await processImage(await png(30, 7), options)).toMatchObject({
      ok: false,
      reason: 'too_small',
      message: `shorter side 7 px is under 8 px, half the dataset's 16 px (scaled up further it would only be blur)`,
    });
    expect(await processImage(Buffer.alloc(0), options)).toEqual({
      ok: false,
      reason: 'corrupt',
      message: 'the file is empty (0 bytes)',
    });
    expect((await processImage(await png(30, 8), options)).ok).toBe(true); // exactly half is allowed
    expect(await processImage(await png(200, 100), { ...options, maxImagePixels: 19_999 })).toMatchObject({
      ok: false,
      reason: 'too_many_pixels',
      message: '200×100 is 20,000 pixels, over the limit of 19,999 pixels (DATASET_MAX_IMAGE_PIXELS)',
    });
  });

  it('sniffs the type from magic bytes, not the name', async () => {
    expect(sniffImageType(await encode(gradient(8, 8, 3), 8, 8, 3, 'webp'))).toBe('webp');
    expect(sniffImageType(await encode(gradient(8, 8, 3), 8, 8, 3, 'jpeg'))).toBe('jpeg');
    expect(sniffImageType(Buffer.from('GIF89a......'))).toBe('gif');
    expect(sniffImageType(Buffer.from('<svg></svg>'))).toBeNull();
  });
});

describe('readImageSize', () => {
  it('reads width and height from PNG, JPEG, WebP (lossy and lossless) and GIF headers', async () => {
    const { readImageSize } = await import('./image-header.ts');
    for (const format of ['png', 'jpeg', 'webp', 'gif'] as const) {
      const bytes = await encode(gradient(37, 23, 3), 37, 23, 3, format);
      expect(readImageSize(bytes, format), format).toEqual({ width: 37, height: 23 });
    }
    const lossy = await sharp(gradient(37, 23, 3), { raw: { width: 37, height: 23, channels: 3 } })
      .webp({ quality: 50 })
      .toBuffer();
    expect(readImageSize(lossy, 'webp')).toEqual({ width: 37, height: 23 });
    const alpha = await sharp(Buffer.alloc(37 * 23 * 4, 128), { raw: { width: 37, height: 23, channels: 4 } })
      .webp({ quality: 50 })
      .toBuffer();
    expect(readImageSize(alpha, 'webp')).toEqual({ width: 37, height: 23 });
    expect(readImageSize(Buffer.from([0xff, 0xd8, 0xff]), 'jpeg')).toBeNull();
  });
});
