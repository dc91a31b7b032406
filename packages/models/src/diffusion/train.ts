import * as tf from '@tensorflow/tfjs';
import { diffusionLoss, lossByQuartile, type LossConfig, type LossKind } from './losses.ts';
import { Ema, type EmaConfig } from '../optim/ema.ts';
import { flatNormAndClipScale } from '../optim/flat.ts';
import { concatFlat } from '../optim/flat-copy.ts';
import { learningRateAt, validateLrSchedule, type LrSchedule } from '../optim/lr.ts';
import {
  LossScaler,
  resolvePrecision,
  validateLossScale,
  validatePrecision,
  type LossScaleConfig,
  type Precision,
  type PrecisionChoice,
} from '../optim/loss-scale.ts';
import { createOptimizer, type Optimizer, type OptimizerConfig } from '../optim/optimizers.ts';
import {
  accumulateGradients,
  flattenGradients,
  restoreTrainingState,
  trainingStateOf,
  validateTrainingOptions,
  type TrainingState,
} from '../optim/trainer-core.ts';
import { dropoutKeepMask } from '../nn/dropout-mask.ts';
import { setWebGpuConvF16, webGpuConvF16 } from '../nn/webgpu/conv.ts';
import { installWasmKernelFixes } from '../nn/wasm-kernels.ts';
import type { Rng } from '../rng.ts';
import type { Prediction } from './samplers/types.ts';
import { qSample, type NoiseSchedule } from './schedule.ts';
import { drawStepKey, dropoutSeeds, sliceNoise, type StepKey } from './step-noise.ts';
import type { UNet, UNetConfig } from './unet.ts';

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
  /**
   * Draws one key per step, from which every image's timestep, noise, label dropout and dropout masks derive
   * (step-noise.ts): seeding it makes training reproducible, and its state in a checkpoint makes resuming exact.
   */
  rng: Rng;
  /**
   * Split each batch into micro-batches of at most this many images and accumulate their gradients
   * (same update as the whole batch): keeps the wasm heap (capped at 4 GB) within bounds.
   */
  microBatch?: number;
  /** Class-conditional models: probability of replacing a label by the null label (CFG). Default 0.1. */
  labelDropout?: number;
  /**
   * 'fp32' (default) or 'mixed-f16': on webgpu with shader-f16, GEMM tiles staged in f16 and dynamic loss scaling
   * (optim/loss-scale.ts) in queueStep/step; elsewhere the trainer runs fp32 and `precision.note` says why.
   * computeGradients/applyGradients (the CPU data-parallel path) always run fp32.
   */
  precision?: Precision;
  /** mixed-f16's loss scale: initial S (2^15) and the finite steps after which S doubles (2000). */
  lossScale?: LossScaleConfig;
}

export interface TrainBatch {
  /** Images scaled to [-1, 1], [B, R, R, C]. */
  images: tf.Tensor4D;
  /** int32 class labels [B] for a class-conditional model. */
  labels?: tf.Tensor1D;
}

/**
 * The batch's size, after checking its shape against the model's: what every trainer of a UNet (this one, the
 * data-parallel one) checks before a step, so a wrong batch fails with the same message before any work.
 */
export function checkTrainBatch(model: Pick<UNetConfig, 'resolution' | 'channels'>, batch: TrainBatch): number {
  const { resolution, channels } = model;
  const [b, h, w, c] = batch.images.shape;
  if (h !== resolution || w !== resolution || c !== channels) {
    throw new RangeError(
      `batch.images must be [B, ${resolution}, ${resolution}, ${channels}], got [${batch.images.shape.join(', ')}]`,
    );
  }
  if (batch.labels && batch.labels.shape[0] !== b)
    throw new RangeError(`batch.labels must have ${b} entries, got ${batch.labels.shape[0]}`);
  return b;
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
  /** mixed-f16 only: the loss scale S after this step (the one the next step uses). */
  lossScale?: number;
  /** mixed-f16 only: whether this step's gradients overflowed and its update was skipped. */
  skipped?: boolean;
  /** mixed-f16 only: steps skipped since the trainer was created. */
  skippedSteps?: number;
}

/** Everything besides weights and config that a checkpoint needs to resume exactly. */
export type TrainerState = TrainingState;

/** Which images of a step's global batch a `computeGradients` call covers (a data-parallel worker's slice). */
export interface BatchSlice {
  /** The step's key (drawStepKey): every image's t, noise, label dropout and dropout masks derive from it. */
  key: StepKey;
  /** Index of the slice's first image in the global batch. */
  start: number;
  /** Images in the global batch: the loss is the mean over all of them. */
  total: number;
}

/** What one slice contributes to a step: its share of the gradient and its images' loss terms, in order. */
export interface SliceGradients {
  /** ∇ of (Σ over the slice's images of their loss) / total, one flat tensor per optimizer bucket (caller disposes). */
  flats: tf.Tensor1D[];
  perSample: Float32Array;
  t: Int32Array;
  mse: Float32Array;
  /** Hybrid loss only. */
  vlb?: Float32Array;
}

/** The update part of StepMetrics. */
export interface AppliedUpdate {
  step: number;
  gradNorm: number;
  lr: number;
  emaDecay: number | null;
}

export interface Trainer {
  readonly model: UNet;
  readonly optimizer: Optimizer;
  readonly ema: Ema | null;
  /**
   * The precision asked for and the one that runs (with why, when they differ), resolved once when the trainer is
   * built from what it actually uses (backend, kernels, shader-f16, whether its optimizer fuses the EMA): the one
   * answer callers report (the trainer app's compute: line), never worked out again elsewhere.
   */
  readonly precision: PrecisionChoice;
  /** Updates applied so far (mixed-f16: skipped steps count too, as they advance the schedules). */
  readonly stepCount: number;
  /** One update from a batch: drawStepKey, computeGradients over the whole batch, applyGradients. */
  step(batch: TrainBatch): Promise<StepMetrics>;
  /** Draws the next step's key from the trainer's Rng. */
  drawStepKey(): StepKey;
  /** Gradients of a slice of a global batch (`batch` holds the slice's images only), micro-batched. */
  computeGradients(batch: TrainBatch, slice: BatchSlice): Promise<SliceGradients>;
  /** Clips and applies summed gradients (flat buckets, not disposed) and updates the EMA: one step. */
  applyGradients(flats: tf.Tensor1D[]): Promise<AppliedUpdate>;
  /** Live tensors (do not dispose); pair with model.variables for a checkpoint. */
  getState(): TrainerState;
  setState(state: TrainerState): void;
  /** Disposes the optimizer and EMA state (not the model). */
  dispose(): void;
}

/**
 * A trainer on one device that can run steps without reading anything back. On a GPU a read is a full sync
 * (submit, wait, map), so the trainer app queues steps and reads their metrics every few steps in one go.
 */
export interface QueueingTrainer extends Trainer {
  /** Applies one update like step() but reads nothing back: its metrics stay on the device; returns the step. */
  queueStep(batch: TrainBatch): number;
  /** The metrics of every step queued since the last flush, in order, fetched with one read. */
  flushMetrics(): Promise<StepMetrics[]>;
}

/** StepMetrics of a step from its update and its slices' loss terms (in global batch order). */
export function stepMetricsOf(update: AppliedUpdate, slices: readonly Omit<SliceGradients, 'flats'>[], T: number) {
  // Empty slices: data-parallel workers beyond the batch size.
  const parts = slices.filter((s) => s.perSample.length > 0);
  const floats = (pick: (s: (typeof parts)[number]) => Float32Array) => concatArrays(parts.map(pick), Float32Array);
  const perSample = floats((s) => s.perSample);
  const t = concatArrays(
    parts.map((s) => s.t),
    Int32Array,
  );
  const metrics: StepMetrics = {
    ...update,
    loss: mean(perSample),
    lossByQuartile: lossByQuartile(perSample, t, T),
  };
  if (parts.every((s) => s.vlb)) {
    metrics.mse = mean(floats((s) => s.mse));
    metrics.vlb = mean(floats((s) => s.vlb!));
  }
  return metrics;
}

function mean(xs: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < xs.length; i++) total += xs[i]!;
  return total / xs.length;
}

function concatArrays<A extends Float32Array | Int32Array>(parts: A[], Ctor: { new (n: number): A }): A {
  const out = new Ctor(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function resolveLoss(loss: TrainerConfig['loss'], prediction: Prediction): LossConfig {
  if (loss === undefined) return { kind: 'simple', prediction };
  if (typeof loss === 'string') return { kind: loss, prediction };
  return { ...loss, prediction };
}

/** SliceGradients with the loss terms still on the device (mse may be the perSample tensor itself). */
interface DeviceSliceGradients {
  flats: tf.Tensor1D[];
  perSample: tf.Tensor1D;
  t: Int32Array;
  mse: tf.Tensor1D;
  vlb: tf.Tensor1D | null;
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
  /** mixed-f16: the loss scaler's state after the step. */
  scaler: tf.Tensor1D | null;
}

/** The device tensors of pending metrics, in the order flushMetrics packs them. */
function pendingTensors(p: PendingMetrics): tf.Tensor[] {
  return [p.perSample, p.norm, ...(p.mse ? [p.mse] : []), ...(p.vlb ? [p.vlb] : []), ...(p.scaler ? [p.scaler] : [])];
}

class DiffusionTrainer implements QueueingTrainer {
  private pending: PendingMetrics[] = [];
  readonly model: UNet;
  readonly optimizer: Optimizer;
  readonly ema: Ema | null;
  private readonly loss: LossConfig;
  private readonly lr: LrSchedule;
  private readonly tfNameToName = new Map<string, string>();
  private readonly varList: tf.Variable[];
  readonly precision: PrecisionChoice;
  private readonly scaler: LossScaler | null;

  constructor(private readonly cfg: TrainerConfig) {
    this.model = cfg.model;
    this.loss = resolveLoss(cfg.loss, cfg.prediction);
    if (this.loss.kind === 'hybrid' && !cfg.model.config.learnSigma) {
      throw new RangeError("trainer.loss 'hybrid' needs a model with learnSigma: true");
    }
    this.lr = typeof cfg.lr === 'number' ? { base: cfg.lr } : cfg.lr;
    validateLrSchedule(this.lr);
    validateTrainingOptions(cfg);
    if (cfg.labelDropout !== undefined && !(cfg.labelDropout >= 0 && cfg.labelDropout <= 1)) {
      throw new RangeError(`trainer.labelDropout must be in [0, 1], got ${cfg.labelDropout}`);
    }
    this.optimizer = 'apply' in cfg.optimizer ? cfg.optimizer : createOptimizer(cfg.model.variables, cfg.optimizer);
    this.ema = cfg.ema === false ? null : new Ema(cfg.model.variables, cfg.ema ?? {});
    for (const [name, v] of cfg.model.variables) this.tfNameToName.set(v.name, name);
    this.varList = [...cfg.model.variables.values()];
    const requested = validatePrecision(cfg.precision);
    validateLossScale(cfg.lossScale);
    const ema = this.ema;
    this.precision = resolvePrecision(requested, () => ema !== null && this.optimizer.fusesEma(ema));
    this.scaler = this.precision.active === 'mixed-f16' ? new LossScaler(cfg.lossScale) : null;
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
    const b = checkTrainBatch(this.model.config, batch);
    const key = this.drawStepKey();
    let g: DeviceSliceGradients;
    if (this.scaler) {
      // mixed-f16: the GEMMs of this step's forward and backward passes stage their tiles in f16; sampling and
      // evaluation in between stay f32.
      const before = webGpuConvF16();
      const scale = this.scaler.scale();
      setWebGpuConvF16(true);
      try {
        g = this.sliceGradients(batch, { key, start: 0, total: b }, scale);
      } finally {
        setWebGpuConvF16(before);
        scale.dispose();
      }
    } else {
      g = this.sliceGradients(batch, { key, start: 0, total: b });
    }
    let update: ReturnType<DiffusionTrainer['applyOnDevice']>;
    try {
      update = this.applyOnDevice(g.flats, this.scaler);
    } finally {
      tf.dispose(g.flats);
    }
    const mse = g.vlb ? tf.tidy(() => tf.mean(g.mse) as tf.Scalar) : null;
    const vlb = g.vlb ? tf.tidy(() => tf.mean(g.vlb!) as tf.Scalar) : null;
    // (mse may be the same tensor as perSample: the simple loss's per-sample terms are its mse.)
    if (g.mse !== g.perSample) g.mse.dispose();
    g.vlb?.dispose();
    const { step, lr, emaDecay, norm, scaler } = update;
    this.pending.push({ step, lr, emaDecay, tValues: g.t, perSample: g.perSample, norm, mse, vlb, scaler });
    return step;
  }

  async flushMetrics(): Promise<StepMetrics[]> {
    const pending = this.pending;
    this.pending = [];
    if (pending.length === 0) return [];
    const parts = pending.flatMap(pendingTensors);
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
      const metrics: StepMetrics = {
        step: p.step,
        loss: mean(lossValues),
        lossByQuartile: lossByQuartile(lossValues, p.tValues, this.cfg.schedule.T),
        gradNorm,
        lr: p.lr,
        emaDecay: p.emaDecay,
      };
      if (p.mse) metrics.mse = take(1)[0]!;
      if (p.vlb) metrics.vlb = take(1)[0]!;
      if (p.scaler) {
        const [scale, , skippedSteps, skipped] = take(4);
        Object.assign(metrics, { lossScale: scale!, skipped: skipped === 1, skippedSteps: skippedSteps! });
      }
      return metrics;
    });
  }

  drawStepKey(): StepKey {
    return drawStepKey(this.cfg.rng);
  }

  async computeGradients(batch: TrainBatch, slice: BatchSlice): Promise<SliceGradients> {
    const g = this.sliceGradients(batch, slice);
    const terms = [g.perSample, g.mse, ...(g.vlb ? [g.vlb] : [])];
    let values: Float32Array[];
    try {
      values = (await Promise.all(terms.map((x) => x.data()))) as Float32Array[];
    } finally {
      tf.dispose(terms);
    }
    const out: SliceGradients = { flats: g.flats, perSample: values[0]!, t: g.t, mse: values[1]! };
    if (g.vlb) out.vlb = values[2]!;
    return out;
  }

  /** computeGradients without reading anything back: the loss terms stay on the device (caller disposes). */
  private sliceGradients(batch: TrainBatch, slice: BatchSlice, lossScale?: tf.Scalar): DeviceSliceGradients {
    const { model, schedule } = this.cfg;
    const { numClasses } = model.config;
    const images = batch.images;
    const b = checkTrainBatch(this.model.config, batch);
    const [, h, w, c] = images.shape;
    const { key, start: first, total } = slice;
    if (!(Number.isInteger(first) && first >= 0 && Number.isInteger(total) && first + b <= total))
      throw new RangeError(`slice: images ${first}…${first + b - 1} do not fit a batch of ${total}`);
    installWasmKernelFixes(); // fast Slice/Concat for the micro-batch slices below and the UNet's skip connections

    // Each image's randomness comes from its own stream (step-noise.ts): micro-batches and data-parallel slices
    // see exactly what the whole batch would.
    const drawn = sliceNoise(key, first, b, schedule.T, h * w * c);
    const t = tf.tensor1d(drawn.t, 'int32');
    const noise = tf.tensor4d(drawn.noise, [b, h, w, c]);
    const labels =
      numClasses === undefined ? undefined : this.conditioningLabels(batch.labels, b, numClasses, drawn.labelU);

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
      let layer = 0;
      const { value, grads } = tf.variableGrads(() => {
        const x0 = slice4(images);
        const eps = slice4(noise);
        const tc = slice1(t);
        const xt = qSample(schedule, x0, tc, eps);
        const out = model.apply(xt, tc, labels ? slice1(labels) : undefined, {
          training: true,
          dropoutMask: (shape, rate) => {
            const perImage = tf.util.sizeFromShape(shape.slice(1));
            const { seedA, seedB } = dropoutSeeds(key, layer++, first + start, perImage);
            return dropoutKeepMask(shape, rate, seedA, seedB);
          },
        });
        const terms = diffusionLoss(this.loss, schedule, out, x0, xt, eps, tc);
        perSampleParts.push(tf.keep(terms.perSample));
        mseParts.push(tf.keep(terms.mse));
        if (terms.vlb) vlbParts.push(tf.keep(terms.vlb));
        const loss = tf.mul(terms.loss, size / total) as tf.Scalar;
        // mixed-f16: gradients of S·loss, so small dY values survive f16 tiles; the optimizer step unscales them.
        return lossScale ? (tf.mul(loss, lossScale) as tf.Scalar) : loss;
      }, this.varList);
      value.dispose();
      summed = accumulateGradients(summed, grads, this.tfNameToName);
    }
    // Flat buckets: clipping, the update and a data-parallel exchange are then a few large ops each.
    const flats = flattenGradients(this.optimizer, summed!);
    const join = (parts: tf.Tensor1D[]) =>
      parts.length === 0 ? null : parts.length === 1 ? parts[0]! : (tf.concat(parts) as tf.Tensor1D);
    const perSample = join(perSampleParts)!;
    const mse = join(mseParts)!;
    const vlb = join(vlbParts);
    const kept = new Set<tf.Tensor>([perSample, mse, ...(vlb ? [vlb] : [])]);
    tf.dispose([t, noise, ...[...perSampleParts, ...mseParts, ...vlbParts].filter((p) => !kept.has(p))]);
    if (labels) labels.dispose();
    return { flats, perSample, t: drawn.t, mse, vlb };
  }

  async applyGradients(flats: tf.Tensor1D[]): Promise<AppliedUpdate> {
    const { norm, scaler: _none, ...update } = this.applyOnDevice(flats);
    try {
      return { ...update, gradNorm: (await norm.data())[0]! };
    } finally {
      norm.dispose();
    }
  }

  /**
   * applyGradients without reading the gradient norm back (the caller disposes it). With a loss scaler, `flats`
   * are gradients of S·loss: the norm is unscaled, a non-finite step is skipped on the device (scaler.step) and
   * the scaler's new state is returned for the metrics.
   */
  private applyOnDevice(
    flats: tf.Tensor1D[],
    scaler: LossScaler | null = null,
  ): Omit<AppliedUpdate, 'gradNorm'> & { norm: tf.Scalar; scaler: tf.Tensor1D | null } {
    const lr = learningRateAt(this.lr, this.optimizer.step);
    if (scaler) {
      const { norm, gate, after } = scaler.step(flats, this.cfg.clipNorm);
      try {
        const emaDecay = this.optimizer.applyFlat(flats, lr, gate, this.ema ?? undefined, true);
        return { step: this.optimizer.step, lr, emaDecay, norm, scaler: after };
      } catch (err) {
        tf.dispose([norm, after]);
        throw err;
      } finally {
        gate.dispose();
      }
    }
    const { norm, scale } = flatNormAndClipScale(flats, this.cfg.clipNorm);
    // With the EMA: one kernel per bucket on webgpu (Adam + EMA), else the EMA's own update after Adam.
    const emaDecay = this.optimizer.applyFlat(flats, lr, scale, this.ema ?? undefined);
    scale?.dispose();
    return { step: this.optimizer.step, lr, emaDecay, norm, scaler: null };
  }

  /** Labels with classifier-free-guidance dropout applied (`u`: each image's uniform); all null labels when none are given. */
  private conditioningLabels(
    labels: tf.Tensor1D | undefined,
    b: number,
    numClasses: number,
    u: Float32Array,
  ): tf.Tensor1D {
    const p = this.cfg.labelDropout ?? 0.1;
    if (!labels) return tf.fill([b], numClasses, 'int32') as tf.Tensor1D;
    return tf.tidy(() => {
      const drop = tf.less(tf.tensor1d(u), p);
      return tf.where(drop, tf.fill([b], numClasses, 'int32'), tf.cast(labels, 'int32')) as tf.Tensor1D;
    });
  }

  getState(): TrainerState {
    return trainingStateOf({ optimizer: this.optimizer, ema: this.ema, rng: this.cfg.rng });
  }

  setState(state: TrainerState): void {
    restoreTrainingState({ optimizer: this.optimizer, ema: this.ema, rng: this.cfg.rng }, state);
  }

  dispose(): void {
    tf.dispose(this.pending.flatMap(pendingTensors));
    this.pending = [];
    this.scaler?.dispose();
    if (!('apply' in this.cfg.optimizer)) this.optimizer.dispose();
    this.ema?.dispose();
  }
}

export function createTrainer(config: TrainerConfig): QueueingTrainer {
  return new DiffusionTrainer(config);
}
