// Where each image sits in a trainer's sample grid (apps/trainer/src/sample-grid.ts draws it): one row per class for
// class-conditional runs (the first MAX_GRID_CLASSES labels), else a square-ish grid; 2 px of padding around cells.

/** Rows of a class-conditional grid at most (the trainer's MAX_GRID_CLASSES). */
export const MAX_GRID_CLASSES = 16;
/** Pixels between and around the cells (the trainer's imageGrid padding). */
export const GRID_PADDING = 2;

export interface GridLayout {
  rows: number;
  cols: number;
  /** Side of one image in grid pixels. */
  cell: number;
  /** Row labels (class names) for a class-conditional run; null when rows are just the next images. */
  rowLabels: string[] | null;
}

export interface GridConfig {
  conditioning: string | null;
  numClasses: number | null;
  sampleCount: number;
}

/**
 * The layout of a grid image of `width`×`height` px, or null when it does not fit what the config says (a grid from
 * an older trainer): the page then shows the image without labels rather than wrong ones.
 */
export function gridLayout(
  config: GridConfig,
  width: number,
  height: number,
  labelNames: readonly string[],
): GridLayout | null {
  // Compared case-insensitively: the API may serve it as a string (class) or an enum value (CLASS).
  const conditional = config.conditioning?.toLowerCase() === 'class' && config.numClasses !== null;
  let rows: number;
  let cols: number;
  if (conditional) {
    rows = Math.min(config.numClasses!, MAX_GRID_CLASSES);
    cols = Math.max(1, Math.ceil(config.sampleCount / rows));
  } else {
    cols = Math.max(1, Math.ceil(Math.sqrt(config.sampleCount)));
    rows = Math.ceil(config.sampleCount / cols);
  }
  const cell = (width - GRID_PADDING * (cols + 1)) / cols;
  if (!Number.isInteger(cell) || cell < 1 || rows * cell + GRID_PADDING * (rows + 1) !== height) return null;
  const rowLabels = conditional ? Array.from({ length: rows }, (_, i) => labelNames[i] ?? `class ${i}`) : null;
  return { rows, cols, cell, rowLabels };
}

/** The largest zoom of 1, 2, 3, 4, 6 or 8 that keeps the grid within `maxWidth` px (at least 1). */
export function fittingZoom(width: number, maxWidth: number): number {
  return [8, 6, 4, 3, 2, 1].find((z) => width * z <= maxWidth) ?? 1;
}

export const ZOOMS = [1, 2, 3, 4, 6, 8] as const;
