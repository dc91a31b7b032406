import * as tf from '@tensorflow/tfjs';
import {
  createUNet,
  estimateVariationalBound,
  type NoiseSchedule,
  type Prediction,
  type Trainer,
  type UNet,
  type UNetConfig,
} from '@dapple/models';
import { batchLabels } from './labels.ts';

export interface HeldOutBatch {
  /** [-1, 1] NHWC. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

/**
 * A DDPM run's held-out bits/dim: the variational bound (metrics/vlb.ts) on the held-out split every Glow run on
 * the version scores too, estimated from `timesteps` KL terms (unbiased; the prior and decoder terms exact).
 * Scores the EMA weights (the raw ones without EMA), which are what gets sampled and published. The timesteps
 * and the noise come from the split's seed, so every evaluation of a run — and every run on the version with
 * the same schedule — draws the same ones, and the curve moves with the model rather than with the draw.
 */
export class HeldOutBound {
  private copy: UNet | null = null;
  private readonly images: tf.Tensor4D;
  private readonly labels: tf.Tensor1D | undefined;

  constructor(
    private readonly unet: UNetConfig,
    private readonly schedule: NoiseSchedule,
    private readonly prediction: Prediction,
    private readonly opts: { timesteps: number; seed: number },
    heldOut: HeldOutBatch,
  ) {
    const { resolution: r, channels: c } = unet;
    this.images = tf.tensor4d(heldOut.images, [heldOut.count, r, r, c]);
    this.labels = unet.numClasses === undefined ? undefined : batchLabels(heldOut.labels, unet.numClasses);
  }

  async bitsPerDim(trainer: Trainer): Promise<number> {
    this.copy ??= createUNet(this.unet, 0);
    const copy = this.copy;
    if (trainer.ema) trainer.ema.copyTo(copy.variables);
    else for (const [name, v] of trainer.model.variables) copy.variables.get(name)!.assign(v);
    const result = await estimateVariationalBound({
      denoiser: (xt, t, l) => copy.apply(xt, t, l),
      schedule: this.schedule,
      prediction: this.prediction,
      variance: this.unet.learnSigma ? 'learned' : 'fixedSmall',
      x0: this.images,
      ...(this.labels ? { labels: this.labels } : {}),
      seed: this.opts.seed,
      timesteps: this.opts.timesteps,
    });
    return result.meanBitsPerDim;
  }

  dispose(): void {
    this.copy?.dispose();
    this.images.dispose();
    this.labels?.dispose();
  }
}
