import * as tf from '@tensorflow/tfjs';
import {
  createUNet,
  DEFAULT_CLASS_GUIDANCE,
  DEFAULT_SAMPLER,
  imageGrid,
  sampleWith,
  type SamplerKind,
  toUint8Images,
  type NoiseSchedule,
  type Prediction,
  type Trainer,
  type UNet,
  type UNetConfig,
} from '@dapple/models';
import sharp from 'sharp';

/** Rows of a class-conditional grid at most: beyond this many classes only the first ones are shown. */
export const MAX_GRID_CLASSES = 16;

/** Rows and columns of a run's grid: one row per class (conditional), else a square-ish grid of `count`. */
export function gridLayout(
  count: number,
  numClasses: number | undefined,
): { rows: number; cols: number; classes: number[] | null } {
  if (numClasses === undefined) {
    const cols = Math.max(1, Math.ceil(Math.sqrt(count)));
    return { rows: Math.ceil(count / cols), cols, classes: null };
  }
  const shown = Math.min(numClasses, MAX_GRID_CLASSES);
  const cols = Math.max(1, Math.ceil(count / shown));
  return { rows: shown, cols, classes: Array.from({ length: shown }, (_, i) => i) };
}

export interface GridOptions {
  count: number;
  steps: number;
  seed: number;
  /** Default SDE-DPM-Solver++(2M): see DEFAULT_SAMPLER. */
  sampler?: SamplerKind;
  /** Classifier-free guidance of the class rows (default DEFAULT_CLASS_GUIDANCE); 1 runs the conditional model alone. */
  guidance?: number;
}

/**
 * Sample grids from fixed seeds with the EMA weights (raw weights without EMA): the same seed, sampler and
 * step count give comparable grids across steps and runs. A class-conditional model gets one row per class
 * (label index order), guided by `guidance`, and every row reuses the same noise per column — x_T and, for a
 * stochastic sampler, every step's noise come from the image's own stream of the seed — so rows differ only
 * by their class.
 */
export class GridSampler {
  private copy: UNet | null = null;

  constructor(
    private readonly unet: UNetConfig,
    private readonly schedule: NoiseSchedule,
    private readonly prediction: Prediction,
    private readonly opts: GridOptions,
  ) {}

  async render(trainer: Trainer): Promise<{ png: Uint8Array; width: number; height: number; seeds: number[] }> {
    this.copy ??= createUNet(this.unet, 0);
    const copy = this.copy;
    if (trainer.ema) trainer.ema.copyTo(copy.variables);
    else for (const [name, v] of trainer.model.variables) copy.variables.get(name)!.assign(v);
    const { resolution: r, channels: c } = this.unet;
    const layout = gridLayout(this.opts.count, this.unet.numClasses);
    const guidance = this.opts.guidance ?? DEFAULT_CLASS_GUIDANCE;
    const sample = (n: number, labels?: tf.Tensor1D) =>
      sampleWith({
        sampler: this.opts.sampler ?? DEFAULT_SAMPLER,
        denoiser: (xt, t, l) => copy.apply(xt, t, l),
        schedule: this.schedule,
        prediction: this.prediction,
        shape: [n, r, r, c],
        seed: this.opts.seed,
        steps: this.opts.steps,
        ...(labels ? { labels } : {}),
        ...(labels && guidance !== 1 ? { guidanceScale: guidance, nullLabel: this.unet.numClasses! } : {}),
        ...(this.unet.learnSigma ? { variance: 'learned' as const } : {}),
      });
    let x: tf.Tensor4D;
    if (layout.classes === null) x = await sample(this.opts.count);
    else {
      const rows: tf.Tensor4D[] = [];
      for (const label of layout.classes) {
        const labels = tf.fill([layout.cols], label, 'int32') as tf.Tensor1D;
        rows.push(await sample(layout.cols, labels));
        labels.dispose();
      }
      x = tf.concat(rows, 0);
      tf.dispose(rows);
    }
    const n = x.shape[0];
    const pixels = await toUint8Images(x);
    x.dispose();
    const grid = imageGrid(pixels, [n, r, r, c], { padding: 2, cols: layout.cols, rows: layout.rows });
    const png = await sharp(Buffer.from(grid.pixels), {
      raw: { width: grid.width, height: grid.height, channels: grid.channels as 1 | 3 | 4 },
    })
      .png()
      .toBuffer();
    return { png: new Uint8Array(png), width: grid.width, height: grid.height, seeds: [this.opts.seed] };
  }

  dispose(): void {
    this.copy?.dispose();
  }
}
