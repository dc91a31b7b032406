import sharp from 'sharp';

/**
 * One PNG per image from uint8 NHWC pixels. Fixed encoder settings (and no metadata or timestamps)
 * so the same pixels always give the same bytes.
 */
export async function encodePngs(
  pixels: Uint8Array,
  shape: readonly [number, number, number, number],
): Promise<Uint8Array[]> {
  const [n, h, w, c] = shape;
  const per = h * w * c;
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const raw = Buffer.from(pixels.buffer, pixels.byteOffset + i * per, per);
    let image = sharp(raw, { raw: { width: w, height: h, channels: c as 1 | 3 | 4 } });
    // Without this sharp writes grey images as RGB PNGs (three equal channels, three times the bytes).
    if (c === 1) image = image.toColourspace('b-w');
    const png = await image.png({ compressionLevel: 6, adaptiveFiltering: false, palette: false }).toBuffer();
    out.push(new Uint8Array(png.buffer, png.byteOffset, png.byteLength));
  }
  return out;
}
