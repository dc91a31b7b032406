import * as tf from '@tensorflow/tfjs';
import {
  createGlow,
  glowSample,
  imageGrid,
  toUint8Images,
  type Glow,
  type GlowConfig,
  type GlowTrainer,
} from '@dapple/models';
import sharp from 'sharp';
import { gridLayout } from './sample-grid.ts';

export interface GlowGridOptions {
  /** Images per temperature block. */
  count: number;
  seed: number;
  /** One block per temperature, top to bottom. */
  temperatures: readonly number[];
}

/**
 * A Glow run's sample grid: one block per temperature (T = 0.7 and 1.0 by default), each laid out as a DDPM
 * grid is (one row per class for a class-conditional flow), from the EMA weights (raw without EMA). Every
 * block draws the same latent noise from the same seed, so blocks differ only by T and grids compare across
 * checkpoints; within a block the class rows share their noise per column.
 */
export class GlowGridSampler {
  private copy: Glow | null = null;

  constructor(
    private readonly config: GlowConfig,
    private readonly opts: GlowGridOptions,
  ) {}

  async render(trainer: GlowTrainer): Promise<{ png: Uint8Array; width: number; height: number; seeds: number[] }> {
    this.copy ??= createGlow(this.config, 0);
    const copy = this.copy;
    if (trainer.ema) trainer.ema.copyTo(copy.variables);
    else for (const [name, v] of trainer.model.variables) copy.variables.get(name)!.assign(v);
    // The actnorms were fitted by the first step (or come from a checkpoint); before that the grid shows the
    // untrained flow, which is what step 0 is.
    copy.markInitialized();
    const { resolution: r, channels: c } = this.config;
    const layout = gridLayout(this.opts.count, this.config.numClasses);
    const blocks: tf.Tensor4D[] = [];
    try {
      for (const temperature of this.opts.temperatures) {
        if (layout.classes === null) {
          blocks.push(await glowSample({ model: copy, count: this.opts.count, seed: this.opts.seed, temperature }));
          continue;
        }
        for (const label of layout.classes) {
          blocks.push(
            await glowSample({
              model: copy,
              count: layout.cols,
              seed: this.opts.seed,
              temperature,
              labels: new Array<number>(layout.cols).fill(label),
            }),
          );
        }
      }
      const x = blocks.length === 1 ? blocks[0]! : (tf.concat(blocks, 0) as tf.Tensor4D);
      const pixels = await toUint8Images(x);
      if (x !== blocks[0]) x.dispose();
      // An unconditional block of `count` may not fill its last row: pad each block to rows × cols.
      const perBlock = layout.rows * layout.cols;
      const blockImages = layout.classes === null ? this.opts.count : perBlock;
      const padded =
        blockImages === perBlock
          ? pixels
          : padBlocks(pixels, this.opts.temperatures.length, blockImages, perBlock, r * r * c);
      const rows = layout.rows * this.opts.temperatures.length;
      const grid = imageGrid(padded, [rows * layout.cols, r, r, c], { padding: 2, cols: layout.cols, rows });
      const png = await sharp(Buffer.from(grid.pixels), {
        raw: { width: grid.width, height: grid.height, channels: grid.channels as 1 | 3 | 4 },
      })
        .png()
        .toBuffer();
      return { png: new Uint8Array(png), width: grid.width, height: grid.height, seeds: [this.opts.seed] };
    } finally {
      tf.dispose(blocks);
    }
  }

  dispose(): void {
    this.copy?.dispose();
  }
}

/** Each block of `have` images padded with black images to `want`, so blocks start on their own row. */
function padBlocks(pixels: Uint8Array, blocks: number, have: number, want: number, imageBytes: number): Uint8Array {
  const out = new Uint8Array(blocks * want * imageBytes);
  for (let b = 0; b < blocks; b++)
    out.set(pixels.subarray(b * have * imageBytes, (b + 1) * have * imageBytes), b * want * imageBytes);
  return out;
}
