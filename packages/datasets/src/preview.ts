import sharp from 'sharp';
import type { Channels } from './image.ts';

/**
 * Lays square HWC tiles out row by row, `columns` per row (black where the last row ends or a tile is null), and
 * encodes the grid. Used for preview.png and for thumbnail sheets.
 */
export async function renderGrid(
  tiles: readonly (Uint8Array | null)[],
  tile: number,
  channels: Channels,
  options: { columns?: number; format?: 'png' | 'webp' } = {},
): Promise<Buffer | null> {
  if (tile === 0 || !tiles.some((t) => t !== null)) return null;
  const columns = options.columns ?? Math.ceil(Math.sqrt(tiles.length));
  const rows = Math.ceil(tiles.length / columns);
  const width = Math.min(columns, tiles.length) * tile;
  const grid = Buffer.alloc(width * rows * tile * channels);
  tiles.forEach((pixels, index) => {
    if (!pixels) return; // a gap: stays black
    const x0 = (index % columns) * tile;
    const y0 = Math.floor(index / columns) * tile;
    for (let y = 0; y < tile; y++) {
      const from = y * tile * channels;
      grid.set(pixels.subarray(from, from + tile * channels), ((y0 + y) * width + x0) * channels);
    }
  });
  const image = sharp(grid, { raw: { width, height: rows * tile, channels } });
  // effort 2: a third of the default's CPU for a few percent more bytes; sheets are made for every 64 images.
  return options.format === 'webp' ? image.webp({ quality: 80, effort: 2 }).toBuffer() : image.png().toBuffer();
}

/** Downscales processed pixels to a tile (the pixels themselves when the resolution is small enough). */
export async function makeTile(pixels: Buffer, resolution: number, channels: Channels, tile: number): Promise<Buffer> {
  if (tile >= resolution) return pixels;
  return sharp(pixels, { raw: { width: resolution, height: resolution, channels } })
    .resize(tile, tile, { kernel: 'lanczos3' })
    .raw()
    .toBuffer();
}
