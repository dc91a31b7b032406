import * as tf from '@tensorflow/tfjs';
import { diffusionLoss, lossByQuartile, type LossConfig, type LossKind } from './losses.ts';
import { Ema, type EmaConfig } from '../optim/ema.ts';
import { flatNormAndClipScale } from '../optim/flat.ts';
import { concatFlat } from '../optim/flat-copy.ts';
import { learningRateAt, validateLrSchedule, type LrSchedule } from '../optim/lr.ts';
import { createOptimizer, type Optimizer, type OptimizerConfig } from '../optim/optimizers.ts';
import { dropoutKeepMask } from '../nn/dropout-mask.ts';
import { installWasmKernelFixes } from '../nn/wasm-kernels.ts';
import type { Rng, RngState } from '../rng.ts';
import type { Prediction } from './samplers/types.ts';
import { qSample, type NoiseSchedule } from './schedule.ts';
import type { UNet } from './unet.ts';

export interface TrainerConfig {
  model: UNet;
  schedule: NoiseSchedule;
  prediction: Prediction;
  /** 'simple' (default) or 'hybrid' (needs learnSigma), or a full LossConfig without `prediction`. */
  loss?: LossKind | Omit<LossConfig, 'prediction'>;
  optimizer: OptimizerConfig | Optimizer;
  /** A fixed learning rate or a schedule (warmup + constant/cosine). */
  lr: number | LrSchedule;
  /** EMA of the weights (default on, maxDecay 0.9999); false to disable. */
  ema?: EmaConfig | false;
  /** Global-norm clipping threshold; the norm is reported either way. */
  clipNorm?: number;
  /** Draws timesteps, noise, dropout masks and label dropout: seeding it makes training reproducible. */
  rng: Rng;
  /**
   * Split each batch into micro-batches of at most this many images and accumulate their gradients
   * (same update as the whole batch): keeps the wasm heap (capped at 4 GB) within bounds.
   */
  microBatch?: number;
  /** Class-conditional models: probability of replacing a label by the null label (CFG). Default 0.1. */
  labelDropout?: number;
}

export interface TrainBatch {
  /** Images scaled to [-1, 1], [B, R, R, C]. */
  images: tf.Tensor4D;
  /** int32 class labels [B] for a class-conditional model. */
  labels?: tf.Tensor1D;
}

export interface StepMetrics {
  /** 1-based index of the update just applied. */
  step: number;
  loss: number;
  /** Mean loss of the samples whose t fell in each quarter of [0, T); null if none did. */
  lossByQuartile: [number | null, number | null, number | null, number | null];
  /** Global gradient norm before clipping. */
  gradNorm: number;
  lr: number;
  /** EMA decay used for this update; null without EMA. */
  emaDecay: number | null;
  /** Hybrid loss only: the two parts (batch means). */
  mse?: number;
  vlb?: number;
}

/** Everything besides weights and config that a checkpoint needs to resume exactly. */
export interface TrainerState {
  step: number;
  optimizer: Map<string, tf.Tensor>;
  ema?: Map<string, tf.Tensor>;
  rngState: RngState;
}

export interface Trainer {
  readonly model: UNet;
  readonly optimizer: Optimizer;
  readonly ema: Ema | null;
  /** Updates applied so far. */
  readonly stepCount: number;
  step(batch: TrainBatch): Promise<StepMetrics>;
  /**
   * Applies one update like step() but reads nothing back: its metrics stay on the device until flushMetrics().
   * On a GPU a read is a full sync (submit, wait, map), so the trainer reads every few steps; returns the step.
   */
  queueStep(batch: TrainBatch): number;
  /** The metrics of every step queued since the last flush, in order, fetched with one read. */
  flushMetrics(): Promise<StepMetrics[]>;
  /** Live tensors (do not dispose); pair with model.variables for a checkpoint. */
  getState(): TrainerState;
  setState(state: TrainerState): void;
  /** Disposes the optimizer and EMA state (not the model). */
  dispose(): void;
}

/** A dropout keep-mask (dropout-mask.ts) from two words of the trainer's Rng, so training stays reproducible and resumable. */
function keepMask(rng: Rng, shape: number[], rate: number): tf.Tensor {
  const [seedA, seedB] = rng.uniformIntArray(2, 2 ** 31) as unknown as [number, number];
  return dropoutKeepMask(shape, rate, seedA, seedB);
}

function resolveLoss(loss: TrainerConfig['loss'], prediction: Prediction): LossConfig {
  if (loss === undefined) return { kind: 'simple', prediction };
  if (typeof loss === 'string') return { kind: loss, prediction };
  return { ...loss, prediction };
}

/** A step's metrics while they are still on the device (kept tensors) or already known on the host. */
interface PendingMetrics {
  step: number;
  lr: number;
  emaDecay: number | null;
  tValues: Int32Array;
  perSample: tf.Tensor1D;
  norm: tf.Scalar;
  mse: tf.Scalar | null;
  vlb: tf.Scalar | null;
}

class DiffusionTrainer implements Trainer {
  private pending: PendingMetrics[] = [];
  readonly model: UNet;
  readonly optimizer: Optimizer;
  readonly ema: Ema | null;
  private readonly loss: LossConfig;
  private readonly lr: LrSchedule;
  private readonly tfNameToName = new Map<string, string>();
  private readonly varList: tf.Variable[];

  constructor(private readonly cfg: TrainerConfig) {
    this.model = cfg.model;
    this.loss = resolveLoss(cfg.loss, cfg.prediction);
    if (this.loss.kind === 'hybrid' && !cfg.model.config.learnSigma) {
      throw new RangeError("trainer.loss 'hybrid' needs a model with learnSigma: true");
    }
    this.lr = typeof cfg.lr === 'number' ? { base: cfg.lr } : cfg.lr;
    validateLrSchedule(this.lr);
    if (cfg.microBatch !== undefined && !(Number.isInteger(cfg.microBatch) && cfg.microBatch >= 1)) {
      throw new RangeError(`trainer.microBatch must be an integer ≥ 1, got ${cfg.microBatch}`);
    }
    if (cfg.labelDropout !== undefined && !(cfg.labelDropout >= 0 && cfg.labelDropout <= 1)) {
      throw new RangeError(`trainer.labelDropout must be in [0, 1], got ${cfg.labelDropout}`);
    }
    if (cfg.clipNorm !== undefined && !(cfg.clipNorm > 0))
      throw new RangeError(`trainer.clipNorm must be > 0, got ${cfg.clipNorm}`);
    this.optimizer = 'apply' in cfg.optimizer ? cfg.optimizer : createOptimizer(cfg.model.variables, cfg.optimizer);
    this.ema = cfg.ema === false ? null : new Ema(cfg.model.variables, cfg.ema ?? {});
    for (const [name, v] of cfg.model.variables) this.tfNameToName.set(v.name, name);
    this.varList = [...cfg.model.variables.values()];
  }

  get stepCount(): number {
    return this.optimizer.step;
  }

  async step(batch: TrainBatch): Promise<StepMetrics> {
    this.queueStep(batch);
    const metrics = await this.flushMetrics();
    return metrics[metrics.length - 1]!;
  }

  queueStep(batch: TrainBatch): number {
    this.pending.push(this.update(batch));
    return this.optimizer.step;
  }

  async flushMetrics(): Promise<StepMetrics[]> {
    const pending = this.pending;
    this.pending = [];
    if (pending.length === 0) return [];
    const parts = pending.flatMap((p) => [p.perSample, p.norm, ...(p.mse ? [p.mse] : []), ...(p.vlb ? [p.vlb] : [])]);
    const packed = concatFlat(parts);
    let values: Float32Array;
    try {
      values = (await packed.data()) as Float32Array;
    } finally {
      tf.dispose([packed, ...parts]);
    }
    let at = 0;
    const take = (n: number) => values.subarray(at, (at += n));
    return pending.map((p) => {
      const lossValues = take(p.perSample.size);
      const gradNorm = take(1)[0]!;
      let total = 0;
      for (const v of lossValues) total += v;
      const metrics: StepMetrics = {
        step: p.step,
        loss: total / lossValues.length,
        lossByQuartile: lossByQuartile(lossValues, p.tValues, this.cfg.schedule.T),
        gradNorm,
        lr: p.lr,
        emaDecay: p.emaDecay,
      };
      if (p.mse) metrics.mse = take(1)[0]!;
      if (p.vlb) metrics.vlb = take(1)[0]!;
      return metrics;
    });
  }

  /** One update; its metrics stay on the device. */
  private update(batch: TrainBatch): PendingMetrics {
    const { model, schedule, rng } = this.cfg;
    const { resolution, channels, numClasses } = model.config;
    const images = batch.images;
    const [b, h, w, c] = images.shape;
    if (h !== resolution || w !== resolution || c !== channels) {
      throw new RangeError(
        `batch.images must be [B, ${resolution}, ${resolution}, ${channels}], got [${images.shape.join(', ')}]`,
      );
    }
    if (batch.labels && batch.labels.shape[0] !== b)
      throw new RangeError(`batch.labels must have ${b} entries, got ${batch.labels.shape[0]}`);
    const lr = learningRateAt(this.lr, this.optimizer.step);
    installWasmKernelFixes(); // fast Slice/Concat for the micro-batch slices below and the UNet's skip connections

    // Draw all randomness for the whole batch first, so micro-batching does not change the stream.
    const tValues = rng.uniformIntArray(b, schedule.T); // the same draws as rng.uniformInt, kept on the host
    const t = tf.tensor1d(tValues, 'int32');
    const noise = rng.normal([b, h, w, c]) as tf.Tensor4D;
    const labels = numClasses === undefined ? undefined : this.conditioningLabels(batch.labels, b, numClasses);

    const micro = Math.min(this.cfg.microBatch ?? b, b);
    const perSampleParts: tf.Tensor1D[] = [];
    const mseParts: tf.Tensor1D[] = [];
    const vlbParts: tf.Tensor1D[] = [];
    let summed: Map<string, tf.Tensor> | null = null;
    for (let start = 0; start < b; start += micro) {
      const size = Math.min(micro, b - start);
      const slice4 = (x: tf.Tensor4D) =>
        size === b ? x : (x.slice([start, 0, 0, 0], [size, -1, -1, -1]) as tf.Tensor4D);
      const slice1 = (x: tf.Tensor1D) => (size === b ? x : x.slice([start], [size]));
      const { value, grads } = tf.variableGrads(() => {
        const x0 = slice4(images);
        const eps = slice4(noise);
        const tc = slice1(t);
        const xt = qSample(schedule, x0, tc, eps);
        const out = model.apply(xt, tc, labels ? slice1(labels) : undefined, {
          training: true,
          dropoutMask: (shape, rate) => keepMask(rng, shape, rate),
        });
        const terms = diffusionLoss(this.loss, schedule, out, x0, xt, eps, tc);
        perSampleParts.push(tf.keep(terms.perSample));
        mseParts.push(tf.keep(terms.mse));
        if (terms.vlb) vlbParts.push(tf.keep(terms.vlb));
        return tf.mul(terms.loss, size / b) as tf.Scalar;
      }, this.varList);
      value.dispose();
      const named = new Map<string, tf.Tensor>();
      for (const [tfName, g] of Object.entries(grads)) named.set(this.tfNameToName.get(tfName)!, g);
      if (summed === null) summed = named;
      else {
        for (const [name, g] of named) {
          const prev = summed.get(name);
          summed.set(name, prev ? tf.add(prev, g) : g);
          if (prev) {
            prev.dispose();
            g.dispose();
          }
        }
      }
    }
    const raw = summed!;
    // Clip and update on flat buckets: a few large ops instead of several per variable.
    const flats = this.optimizer.layout.buckets.map((_, i) => this.optimizer.layout.flatten(raw, i));
    tf.dispose([...raw.values()]);
    const { norm, scale } = flatNormAndClipScale(flats, this.cfg.clipNorm);
    // With the EMA: one kernel per bucket on webgpu (Adam + EMA), else the EMA's own update after Adam.
    const emaDecay = this.optimizer.applyFlat(flats, lr, scale, this.ema ?? undefined);
    tf.dispose(flats);
    scale?.dispose();

    const perSample = perSampleParts.length === 1 ? perSampleParts[0]! : tf.concat(perSampleParts);
    const mse = this.loss.kind === 'hybrid' ? tf.tidy(() => tf.mean(tf.concat(mseParts)) as tf.Scalar) : null;
    const vlb = vlbParts.length ? tf.tidy(() => tf.mean(tf.concat(vlbParts)) as tf.Scalar) : null;
    // (perSample may be the same tensor as an mse part: the simple loss's per-sample terms are its mse.)
    tf.dispose([t, noise, ...[...perSampleParts, ...mseParts, ...vlbParts].filter((p) => p !== perSample)]);
    if (labels) labels.dispose();
    return { step: this.optimizer.step, lr, emaDecay, tValues, perSample: perSample as tf.Tensor1D, norm, mse, vlb };
  }

  /** Labels with classifier-free-guidance dropout applied; all null labels when none are given. */
  private conditioningLabels(labels: tf.Tensor1D | undefined, b: number, numClasses: number): tf.Tensor1D {
    const p = this.cfg.labelDropout ?? 0.1;
    if (!labels) return tf.fill([b], numClasses, 'int32') as tf.Tensor1D;
    return tf.tidy(() => {
      const drop = tf.less(this.cfg.rng.uniform([b]), p);
      return tf.where(drop, tf.fill([b], numClasses, 'int32'), tf.cast(labels, 'int32')) as tf.Tensor1D;
    });
  }

  getState(): TrainerState {
    const state: TrainerState = {
      step: this.optimizer.step,
      optimizer: this.optimizer.getState(),
      rngState: this.cfg.rng.getState(),
    };
    if (this.ema) state.ema = this.ema.getState();
    return state;
  }

  setState(state: TrainerState): void {
    this.optimizer.setState(state.optimizer);
    if (this.ema) {
      if (!state.ema) throw new Error('trainer state has no EMA weights but the trainer keeps an EMA');
      this.ema.setState(state.ema);
    }
    this.cfg.rng.setState(state.rngState);
  }

  dispose(): void {
    tf.dispose(
      this.pending.flatMap((p) => [p.perSample, p.norm, ...(p.mse ? [p.mse] : []), ...(p.vlb ? [p.vlb] : [])]),
    );
    this.pending = [];
    if (!('apply' in this.cfg.optimizer)) this.optimizer.dispose();
    this.ema?.dispose();
  }
}

export function createTrainer(config: TrainerConfig): Trainer {
  return new DiffusionTrainer(config);
}
