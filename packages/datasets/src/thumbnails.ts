import type { Channels } from './image.ts';
import { renderGrid } from './preview.ts';

export const THUMBNAILS_PER_SHEET = 64;
export const THUMBNAIL_COLUMNS = 8;

/** Where accepted image `index` sits: sheet object name and pixel offset of its tile. */
export function thumbnailLocation(index: number, tile: number): { name: string; x: number; y: number; size: number } {
  const sheet = Math.floor(index / THUMBNAILS_PER_SHEET);
  const slot = index % THUMBNAILS_PER_SHEET;
  return {
    name: thumbnailSheetName(sheet),
    x: (slot % THUMBNAIL_COLUMNS) * tile,
    y: Math.floor(slot / THUMBNAIL_COLUMNS) * tile,
    size: tile,
  };
}

export function thumbnailSheetName(sheet: number): string {
  return `thumbs/sheet-${String(sheet).padStart(5, '0')}.webp`;
}

/**
 * Thumbnails are packed 64 to a sheet (8 columns, WebP): one object per 64 accepted images instead
 * of one each. Per-image objects cost a write each (most of the prepare time for small images on
 * disk, a PUT each on S3) and a request each in the browser; a sheet is one of each, and a gallery
 * page shows a tile with a CSS background offset (`thumbnailLocation`).
 */
export class ThumbnailSheets {
  private tiles: Uint8Array[] = [];
  private sheets = 0;

  constructor(
    readonly tile: number,
    private readonly channels: Channels,
    private readonly write: (name: string, bytes: Buffer) => Promise<void>,
  ) {}

  get names(): string[] {
    return Array.from({ length: this.sheets }, (_, i) => thumbnailSheetName(i));
  }

  async add(tile: Uint8Array): Promise<void> {
    this.tiles.push(tile);
    if (this.tiles.length === THUMBNAILS_PER_SHEET) await this.flush();
  }

  async finish(): Promise<string[]> {
    if (this.tiles.length > 0) await this.flush();
    return this.names;
  }

  private async flush(): Promise<void> {
    const tiles = this.tiles;
    this.tiles = [];
    const name = thumbnailSheetName(this.sheets++);
    const sheet = await renderGrid(tiles, this.tile, this.channels, { columns: THUMBNAIL_COLUMNS, format: 'webp' });
    await this.write(name, sheet!);
  }
}
