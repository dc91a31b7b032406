import { createUNet, ddimSample, imageGrid, toUint8Images, type NoiseSchedule, type Prediction, type Trainer, type UNet, type UNetConfig } from '@dapple/diffusion';
import sharp from 'sharp';

/**
 * Sample grids from fixed seeds with the EMA weights (raw weights without EMA), deterministic DDIM:
 * the same seed and step count give comparable grids across steps and runs.
 */
export class GridSampler {
  private copy: UNet | null = null;

  constructor(
    private readonly unet: UNetConfig,
    private readonly schedule: NoiseSchedule,
    private readonly prediction: Prediction,
    private readonly opts: { count: number; steps: number; seed: number },
  ) {}

  async render(trainer: Trainer): Promise<{ png: Uint8Array; width: number; height: number; seeds: number[] }> {
    this.copy ??= createUNet(this.unet, 0);
    const copy = this.copy;
    if (trainer.ema) trainer.ema.copyTo(copy.variables);
    else for (const [name, v] of trainer.model.variables) copy.variables.get(name)!.assign(v);
    const { resolution: r, channels: c } = this.unet;
    const x = await ddimSample({
      denoiser: (xt, t, labels) => copy.apply(xt, t, labels),
      schedule: this.schedule,
      prediction: this.prediction,
      shape: [this.opts.count, r, r, c],
      seed: this.opts.seed,
      steps: this.opts.steps,
    });
    const pixels = await toUint8Images(x);
    x.dispose();
    const grid = imageGrid(pixels, [this.opts.count, r, r, c], { padding: 2 });
    const png = await sharp(Buffer.from(grid.pixels), { raw: { width: grid.width, height: grid.height, channels: grid.channels as 1 | 3 | 4 } })
      .png()
      .toBuffer();
    return { png: new Uint8Array(png), width: grid.width, height: grid.height, seeds: [this.opts.seed] };
  }

  dispose(): void {
    this.copy?.dispose();
  }
}
