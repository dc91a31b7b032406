import type * as tf from '@tensorflow/tfjs';

/** [-1, 1] float images → uint8 NHWC pixels (clamped, rounded half up), in the tensor's element order. */
export async function toUint8Images(x: tf.Tensor4D): Promise<Uint8Array> {
  const values = await x.data();
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = (values[i]! + 1) * 127.5;
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.floor(v + 0.5); // NaN → 0
  }
  return out;
}

export interface ImageGridOptions {
  /** Images per row; default ceil(√n). */
  cols?: number;
  /** Number of rows; default ceil(n / cols). Images beyond rows × cols are left out. */
  rows?: number;
  /** Pixels between tiles and around the border; default 2. */
  padding?: number;
  /** Value of every padding byte; default 0 (black). */
  padValue?: number;
}

export interface ImageGrid {
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: number;
  rows: number;
  cols: number;
}

/** Tiles a batch of uint8 NHWC images into one HWC image, row-major, with padding. Pure pixels. */
export function imageGrid(
  images: Uint8Array,
  shape: readonly [number, number, number, number],
  options: ImageGridOptions = {},
): ImageGrid {
  const [n, h, w, c] = shape;
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || n * h * w * c !== images.length) {
    throw new RangeError(`imageGrid: shape [${shape.join(', ')}] does not match ${images.length} pixels`);
  }
  const padding = options.padding ?? 2;
  const padValue = options.padValue ?? 0;
  if (!Number.isInteger(padding) || padding < 0) throw new RangeError(`padding must be an integer ≥ 0, got ${padding}`);
  if (!Number.isInteger(padValue) || padValue < 0 || padValue > 255) {
    throw new RangeError(`padValue must be an integer in [0, 255], got ${padValue}`);
  }
  const cols = options.cols ?? Math.max(1, Math.ceil(Math.sqrt(n)));
  const rows = options.rows ?? Math.max(1, Math.ceil(n / cols));
  if (!Number.isInteger(cols) || cols < 1) throw new RangeError(`cols must be an integer ≥ 1, got ${cols}`);
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`rows must be an integer ≥ 1, got ${rows}`);
  const width = cols * w + (cols + 1) * padding;
  const height = rows * h + (rows + 1) * padding;
  const pixels = new Uint8Array(width * height * c).fill(padValue);
  const rowBytes = w * c;
  for (let k = 0; k < Math.min(n, rows * cols); k++) {
    const top = padding + Math.floor(k / cols) * (h + padding);
    const left = padding + (k % cols) * (w + padding);
    for (let y = 0; y < h; y++) {
      const src = (k * h + y) * rowBytes;
      pixels.set(images.subarray(src, src + rowBytes), ((top + y) * width + left) * c);
    }
  }
  return { pixels, width, height, channels: c, rows, cols };
}
