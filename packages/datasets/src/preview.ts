import sharp from 'sharp';
import type { Channels } from './image.ts';

export interface PreviewOptions {
  /** How many images the grid shows (the first accepted ones, in dataset order). Default 64. */
  count?: number;
  /** Tile side in pixels; tiles are never upscaled past the dataset resolution. Default 64. */
  tileSize?: number;
}

/**
 * Collects the first N accepted images (already processed, HWC uint8) as small tiles, then renders
 * one PNG grid. Tiles are downscaled as they arrive, so memory stays at N small tiles.
 */
export class PreviewGrid {
  private readonly tiles: Buffer[] = [];
  readonly capacity: number;
  readonly tile: number;

  constructor(
    private readonly resolution: number,
    private readonly channels: Channels,
    options: PreviewOptions = {},
  ) {
    this.capacity = options.count ?? 64;
    this.tile = Math.min(options.tileSize ?? 64, resolution);
  }

  get full(): boolean {
    return this.tiles.length >= this.capacity;
  }

  async add(pixels: Uint8Array): Promise<void> {
    if (this.full) return;
    const slot = this.tiles.length;
    this.tiles.push(Buffer.alloc(0)); // reserve the slot now: add() may be called before the resize finishes
    this.tiles[slot] =
      this.tile === this.resolution
        ? Buffer.from(pixels)
        : await sharp(pixels, { raw: { width: this.resolution, height: this.resolution, channels: this.channels } })
            .resize(this.tile, this.tile, { kernel: 'lanczos3' })
            .raw()
            .toBuffer();
  }

  /** The grid as PNG, or null when no image was accepted. */
  async render(): Promise<Buffer | null> {
    return renderGrid(this.tiles, this.tile, this.channels);
  }
}

/** Lays square HWC tiles out row by row in a near-square grid (black where the last row ends). */
export async function renderGrid(tiles: Uint8Array[], tile: number, channels: Channels): Promise<Buffer | null> {
  if (tiles.length === 0) return null;
  const columns = Math.ceil(Math.sqrt(tiles.length));
  const rows = Math.ceil(tiles.length / columns);
  const width = columns * tile;
  const grid = Buffer.alloc(width * rows * tile * channels);
  tiles.forEach((pixels, index) => {
    const x0 = (index % columns) * tile;
    const y0 = Math.floor(index / columns) * tile;
    for (let y = 0; y < tile; y++) {
      const from = y * tile * channels;
      grid.set(pixels.subarray(from, from + tile * channels), ((y0 + y) * width + x0) * channels);
    }
  });
  return sharp(grid, { raw: { width, height: rows * tile, channels } }).png().toBuffer();
}
