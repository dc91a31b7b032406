import sharp from 'sharp';

/**
 * n grey images in two folders (= two labels, in this order): `top/` has a bright bar across the top half,
 * `bottom/` across the bottom half, at a per-image brightness, so the classes are easy to tell apart.
 */
export async function twoClassImages(
  n: number,
  side: number,
  labels: [string, string] = ['top', 'bottom'],
): Promise<{ path: string; bytes: Buffer }[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    const pixels = Buffer.alloc(side * side, 20);
    const half = side / 2;
    const bright = 200 + (i % 5) * 10;
    for (let y = cls === 0 ? 0 : half; y < (cls === 0 ? half : side); y++)
      for (let x = 0; x < side; x++) pixels[y * side + x] = bright;
    const bytes = await sharp(pixels, { raw: { width: side, height: side, channels: 1 } })
      .png()
      .toBuffer();
    out.push({ path: `${labels[cls]}/img-${String(i).padStart(3, '0')}.png`, bytes });
  }
  return out;
}
