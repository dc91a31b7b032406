import { Rng } from '../../rng.ts';

/**
 * A labelled image set made on the fly, for tests and benchmarks that must show a model learned something:
 * each class is a shape (square, disc, plus, ring) with its own colour, at a random position, size and
 * shade on a dark background. Classes differ in shape and colour, so a conditional model that ignores its
 * label draws the wrong shape or colour, and a small classifier tells the classes apart almost perfectly.
 */
export const SHAPE_CLASSES = ['square', 'disc', 'plus', 'ring'] as const;

/** RGB in [0, 1] per class; `colour: false` draws every class in the same light grey (shape only, like digits). */
const CLASS_RGB: ReadonlyArray<readonly [number, number, number]> = [
  [0.9, 0.25, 0.2],
  [0.25, 0.85, 0.3],
  [0.3, 0.45, 0.95],
  [0.95, 0.85, 0.2],
];

export interface ShapesOptions {
  /** Image side in pixels; default 16. */
  resolution?: number;
  /** Classes to draw, 1–4 (the first ones of SHAPE_CLASSES); default 4. */
  classes?: number;
  /** Per-class colours (default true); false draws all shapes in one grey, so only the shape tells the class. */
  colour?: boolean;
  /** Image channels: 3 (RGB, default) or 1 (grey). */
  channels?: 1 | 3;
}

export interface ShapesBatch {
  /** NHWC float32 in [-1, 1]. */
  images: Float32Array;
  labels: Int32Array;
  shape: [number, number, number, number];
}

function inside(cls: number, dx: number, dy: number, r: number): boolean {
  const ax = Math.abs(dx);
  const ay = Math.abs(dy);
  switch (cls) {
    case 0:
      return ax <= r && ay <= r;
    case 1:
      return dx * dx + dy * dy <= r * r;
    case 2:
      return (ax <= r && ay <= r * 0.35) || (ay <= r && ax <= r * 0.35);
    default: {
      const d = Math.sqrt(dx * dx + dy * dy);
      return d <= r && d >= r * 0.55;
    }
  }
}

/** `n` images with labels drawn uniformly (or `labels` when given), deterministic in `seed`. */
export function makeShapes(
  n: number,
  seed: number,
  options: ShapesOptions & { labels?: ArrayLike<number> } = {},
): ShapesBatch {
  const res = options.resolution ?? 16;
  const classes = options.classes ?? 4;
  const channels = options.channels ?? 3;
  const colour = options.colour ?? true;
  if (!Number.isInteger(classes) || classes < 1 || classes > 4)
    throw new RangeError(`classes must be 1..4, got ${classes}`);
  const rng = new Rng(seed);
  const u = () => rng.uniformArray(1)[0]!;
  const images = new Float32Array(n * res * res * channels);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = options.labels ? options.labels[i]! : Math.min(classes - 1, Math.floor(u() * classes));
    labels[i] = cls;
    const r = res * (0.22 + 0.12 * u());
    const cx = res / 2 + (u() - 0.5) * res * 0.3;
    const cy = res / 2 + (u() - 0.5) * res * 0.3;
    const shade = 0.8 + 0.2 * u();
    const bg = 0.05 + 0.1 * u();
    const rgb = colour ? CLASS_RGB[cls]! : ([0.85, 0.85, 0.85] as const);
    for (let y = 0; y < res; y++) {
      for (let x = 0; x < res; x++) {
        const on = inside(cls, x + 0.5 - cx, y + 0.5 - cy, r);
        const base = ((i * res + y) * res + x) * channels;
        for (let c = 0; c < channels; c++) {
          const value = on ? (channels === 1 ? (rgb[0] + rgb[1] + rgb[2]) / 3 : rgb[c]!) * shade : bg;
          images[base + c] = value * 2 - 1;
        }
      }
    }
  }
  return { images, labels, shape: [n, res, res, channels] };
}
