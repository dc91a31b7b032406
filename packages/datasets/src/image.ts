import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { readImageSize } from './image-header.ts';

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif';
export type ImageRejectReason = 'corrupt' | 'unsupported_type' | 'too_small' | 'too_many_pixels';
export type Channels = 1 | 3;

/**
 * Alpha is composited onto black before dropping it, for every image and every channel count,
 * so a transparent background always means "black" to the model. The manifest records this.
 */
export const ALPHA_BACKGROUND = 'black' as const;

/** Format by magic bytes only: a `.png` that is really a JPEG is a JPEG, a `.png` that is text is refused. */
export function sniffImageType(bytes: Uint8Array): ImageFormat | null {
  const b = bytes;
  if (
    b.length >= 8 &&
    b[0] === 0x89 &&
    b[1] === 0x50 &&
    b[2] === 0x4e &&
    b[3] === 0x47 &&
    b[4] === 0x0d &&
    b[5] === 0x0a &&
    b[6] === 0x1a &&
    b[7] === 0x0a
  ) {
    return 'png';
  }
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  const ascii = (from: number, to: number) =>
    Buffer.from(b.buffer, b.byteOffset + from, Math.max(0, Math.min(to, b.length) - from)).toString('latin1');
  if (b.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  return null;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface ProcessImageOptions {
  /** Output side length: the shorter side is resized to this, then the centre is cropped square. */
  resolution: number;
  channels: Channels;
  maxImagePixels: number;
}

export type ProcessedImage =
  | { ok: true; format: ImageFormat; width: number; height: number; pixels: Buffer }
  | { ok: false; reason: ImageRejectReason; message: string };

/**
 * Decodes one image (first frame of a GIF/animated WebP), applies EXIF orientation, resizes the
 * shorter side to `resolution` with Lanczos3 and centre-crops to a square, composites alpha onto
 * black, and returns raw uint8 HWC pixels with `channels` channels (1 = luminance, 3 = sRGB).
 * Bad input is a typed rejection, never a throw.
 */
export async function processImage(bytes: Buffer, options: ProcessImageOptions): Promise<ProcessedImage> {
  if (bytes.length === 0) return { ok: false, reason: 'corrupt', message: 'the file is empty (0 bytes)' };
  const format = sniffImageType(bytes);
  if (!format)
    return { ok: false, reason: 'unsupported_type', message: 'not a PNG, JPEG, WebP or GIF (by its magic bytes)' };
  const { resolution, channels, maxImagePixels } = options;
  let dimensions = readImageSize(bytes, format);
  if (!dimensions) {
    try {
      const meta = await sharp(bytes, { pages: 1 }).metadata();
      if (!meta.width || !meta.height) return { ok: false, reason: 'corrupt', message: 'image has no dimensions' };
      dimensions = { width: meta.width, height: meta.height };
    } catch (error) {
      return { ok: false, reason: 'corrupt', message: `cannot read image header: ${(error as Error).message}` };
    }
  }
  const { width, height } = dimensions;
  if (width * height > maxImagePixels) {
    return {
      ok: false,
      reason: 'too_many_pixels',
      message:
        `${width}×${height} is ${pixelCount(width * height)}, over the limit of ${pixelCount(maxImagePixels)} ` +
        `(DATASET_MAX_IMAGE_PIXELS)`,
    };
  }
  if (Math.min(width, height) < resolution / 2) {
    return {
      ok: false,
      reason: 'too_small',
      message:
        `shorter side ${Math.min(width, height)} px is under ${resolution / 2} px, half the dataset's ` +
        `${resolution} px (scaled up further it would only be blur)`,
    };
  }
  try {
    let pipeline = sharp(bytes, { pages: 1, limitInputPixels: maxImagePixels, failOn: 'truncated' })
      .rotate()
      .resize(resolution, resolution, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
      .flatten({ background: ALPHA_BACKGROUND });
    pipeline = channels === 1 ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb');
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.width !== resolution || info.height !== resolution || info.channels !== channels) {
      return {
        ok: false,
        reason: 'corrupt',
        message: `decoder produced ${info.width}×${info.height}×${info.channels}`,
      };
    }
    return { ok: true, format, width, height, pixels: data };
  } catch (error) {
    const message = (error as Error).message;
    // The header we read can disagree with what libvips finds (e.g. a GIF frame larger than its screen).
    if (/pixel limit/i.test(message))
      return {
        ok: false,
        reason: 'too_many_pixels',
        message: `over the limit of ${pixelCount(maxImagePixels)} (DATASET_MAX_IMAGE_PIXELS): ${message}`,
      };
    return { ok: false, reason: 'corrupt', message: `cannot decode image: ${message}` };
  }
}

/**
 * Server-wide sharp settings for preparing datasets: libvips threads per operation (the pipeline
 * runs several images at once, so 1 thread each uses the cores better on a small machine) and no
 * operation cache (it only holds memory when every input is different). Call once at start-up.
 */
export function configureSharp(options: { threadsPerImage?: number } = {}): void {
  sharp.concurrency(options.threadsPerImage ?? 1);
  sharp.cache(false);
}

/** A pixel count as people say it: 108000000 → "108 megapixels", 1234567 → "1.2 megapixels", 20000 → "20,000 pixels". */
function pixelCount(pixels: number): string {
  return pixels >= 1e6 ? `${+(pixels / 1e6).toFixed(1)} megapixels` : `${pixels.toLocaleString('en')} pixels`;
}
