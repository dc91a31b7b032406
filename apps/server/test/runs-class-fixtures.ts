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

/**
 * n distinct RGB images in two folders (`top/`, `bottom/`, alternating): a bright half (top or bottom) over a
 * dark one, each pixel jittered by a seeded ±12 so no two images are the same bytes (prepare dedupes).
 */
export async function twoClassNoisyImages(
  n: number,
  side: number,
  seed = 1,
): Promise<{ path: string; bytes: Buffer }[]> {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const out = [];
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    const pixels = Buffer.alloc(side * side * 3);
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++)
        for (let ch = 0; ch < 3; ch++) {
          const bright = (cls === 0) === y < side / 2;
          pixels[(y * side + x) * 3 + ch] = Math.round((bright ? 210 : 40) + (next() - 0.5) * 24);
        }
    const bytes = await sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
      .png()
      .toBuffer();
    out.push({ path: `${cls === 0 ? 'top' : 'bottom'}/img-${String(i).padStart(3, '0')}.png`, bytes });
  }
  return out;
}
