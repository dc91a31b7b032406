import * as tf from '@tensorflow/tfjs';
import { Ema, type EmaConfig } from '../optim/ema.ts';
import { flatGlobalNorm } from '../optim/flat.ts';
import { learningRateAt, validateLrSchedule, type LrSchedule } from '../optim/lr.ts';
import { createOptimizer, type Optimizer, type OptimizerConfig } from '../optim/optimizers.ts';
import {
  accumulateGradients,
  flattenGradients,
  restoreTrainingState,
  trainingStateOf,
  validateTrainingOptions,
  type TrainingState,
} from '../optim/trainer-core.ts';
import type { Rng } from '../rng.ts';
import { dequantize } from './data.ts';
import type { Glow } from './model.ts';

export interface GlowTrainerConfig {
  model: Glow;
  optimizer: OptimizerConfig | Optimizer;
  /** A fixed learning rate or a schedule; use a warm-up (GLOW_TRAINING_DEFAULTS). */
  lr: number | LrSchedule;
  /** EMA of the weights (default on, maxDecay 0.999); false to disable. */
  ema?: EmaConfig | false;
  /** Global-norm clipping threshold; the norm is reported either way. */
  clipNorm?: number;
  /** Draws the dequantization noise: seeding it makes training reproducible. */
  rng: Rng;
  /** Split each batch into micro-batches of at most this many images and accumulate their gradients. */
  microBatch?: number;
}

export interface GlowTrainBatch {
  /** Images in [-1, 1] (8-bit values rescaled), [B, R, R, C]. */
  images: tf.Tensor4D;
  /** int32 class labels [B]; required for a class-conditional model. */
  labels?: tf.Tensor1D;
}

export interface GlowStepMetrics {
  /** 1-based index of the update just applied (unchanged when the update was skipped). */
  step: number;
  /** The loss: mean negative log-likelihood of the batch in bits/dim (data.ts). */
  bitsPerDim: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  lr: number;
  /** EMA decay used for this update; null without EMA or when skipped. */
  emaDecay: number | null;
  /** True when the loss or gradient was not finite: no update was applied (the weights are unchanged). */
  skipped: boolean;
  /** True on the step that ran the data-dependent initialisation of the actnorms. */
  initialized: boolean;
}

/** Everything besides weights and config that a checkpoint needs to resume exactly. */
export type GlowTrainerState = TrainingState;

export interface GlowTrainer {
  readonly model: Glow;
  readonly optimizer: Optimizer;
  readonly ema: Ema | null;
  readonly stepCount: number;
  /** Updates skipped because the loss or gradient was not finite. */
  readonly skippedSteps: number;
  step(batch: GlowTrainBatch): Promise<GlowStepMetrics>;
  /**
   * The actnorms' data-dependent initialisation on `batch` (dequantized with the trainer's noise), before any
   * update: what a step-0 checkpoint must hold, since an un-initialised flow is not the model step 1 trains.
   * The first step() does it itself when this was not called. Returns false when the model was already
   * initialised (a checkpoint or a fine-tune's base).
   */
  initialize(batch: GlowTrainBatch): Promise<boolean>;
  /** Live tensors (do not dispose); pair with model.variables for a checkpoint. */
  getState(): GlowTrainerState;
  /** Restores a state; a state past step 0 also marks the model initialised (its actnorms were fitted). */
  setState(state: GlowTrainerState): void;
  dispose(): void;
}

/** Images the data-dependent initialisation looks at (openai/glow uses a separate batch of 256). */
export const MAX_INIT_BATCH = 256;

/** Checks label values on the host: a bad label must be an error naming the field, not a silent zero one-hot. */
async function checkLabels(labels: tf.Tensor1D, batch: number, numClasses: number): Promise<void> {
  if (labels.shape[0] !== batch)
    throw new RangeError(`batch.labels must have ${batch} entries, got ${labels.shape[0]}`);
  const values = await labels.data();
  for (const v of values) {
    if (!Number.isInteger(v) || v < 0 || v >= numClasses)
      throw new RangeError(`batch.labels must be integers in [0, ${numClasses - 1}], got ${v}`);
  }
}

class GlowTrainerImpl implements GlowTrainer {
  readonly model: Glow;
  readonly optimizer: Optimizer;
  readonly ema: Ema | null;
  private readonly lr: LrSchedule;
  private readonly tfNameToName = new Map<string, string>();
  private readonly varList: tf.Variable[];
  private skipped = 0;

  constructor(private readonly cfg: GlowTrainerConfig) {
    this.model = cfg.model;
    this.lr = typeof cfg.lr === 'number' ? { base: cfg.lr } : cfg.lr;
    validateLrSchedule(this.lr);
    validateTrainingOptions(cfg);
    this.optimizer = 'apply' in cfg.optimizer ? cfg.optimizer : createOptimizer(cfg.model.variables, cfg.optimizer);
    this.ema = cfg.ema === false ? null : new Ema(cfg.model.variables, { maxDecay: 0.999, ...(cfg.ema ?? {}) });
    for (const [name, v] of cfg.model.variables) this.tfNameToName.set(v.name, name);
    this.varList = [...cfg.model.variables.values()];
  }

  async initialize(batch: GlowTrainBatch): Promise<boolean> {
    if (this.cfg.model.initialized) return false;
    const { y, labels } = await this.dequantized(batch);
    try {
      this.initializeOn(y, labels);
    } finally {
      y.dispose();
    }
    return true;
  }

  /** Checks the batch against the model, then dequantizes its images with one noise draw for the whole batch. */
  private async dequantized(batch: GlowTrainBatch): Promise<{ y: tf.Tensor4D; labels: tf.Tensor1D | undefined }> {
    const { resolution, channels, numClasses, nBits } = this.cfg.model.config;
    const { images } = batch;
    const [b, h, w, c] = images.shape;
    if (h !== resolution || w !== resolution || c !== channels)
      throw new RangeError(
        `batch.images must be [B, ${resolution}, ${resolution}, ${channels}], got [${images.shape.join(', ')}]`,
      );
    const labels = numClasses === undefined ? undefined : batch.labels;
    if (numClasses !== undefined) {
      if (!labels) throw new RangeError(`batch.labels are required: the model is conditioned on ${numClasses} classes`);
      await checkLabels(labels, b, numClasses);
    }
    const noise = this.cfg.rng.uniform([b, h, w, c]) as tf.Tensor4D;
    const y = dequantize(images, nBits, noise);
    noise.dispose();
    return { y, labels };
  }

  private initializeOn(y: tf.Tensor4D, labels: tf.Tensor1D | undefined): void {
    const { model } = this.cfg;
    const b = y.shape[0];
    // At most MAX_INIT_BATCH images (not the micro-batch: micro-batching must not change the result). The init
    // pass has no tape, so each flow step frees its own intermediates; only one activation per step stays.
    const n = Math.min(b, MAX_INIT_BATCH);
    const yi = n === b ? y : (y.slice([0, 0, 0, 0], [n, -1, -1, -1]) as tf.Tensor4D);
    const li = labels && n !== b ? labels.slice([0], [n]) : labels;
    model.initialize(yi, li);
    if (yi !== y) yi.dispose();
    if (li && li !== labels) li.dispose();
    // The EMA was taken of the weights before the data-dependent init: restart it from the fitted ones.
    this.ema?.setState(model.variables);
  }

  get stepCount(): number {
    return this.optimizer.step;
  }

  get skippedSteps(): number {
    return this.skipped;
  }

  async step(batch: GlowTrainBatch): Promise<GlowStepMetrics> {
    const { model } = this.cfg;
    const lr = learningRateAt(this.lr, this.optimizer.step);
    // All randomness for the whole batch first, so micro-batching does not change the stream.
    const { y, labels } = await this.dequantized(batch);
    const b = y.shape[0];
    let initialized = false;
    if (!model.initialized) {
      this.initializeOn(y, labels);
      initialized = true;
    }

    const micro = Math.min(this.cfg.microBatch ?? b, b);
    const lossParts: tf.Tensor1D[] = [];
    let summed: Map<string, tf.Tensor> | null = null;
    for (let start = 0; start < b; start += micro) {
      const size = Math.min(micro, b - start);
      const { value, grads } = tf.variableGrads(() => {
        const yc = size === b ? y : (y.slice([start, 0, 0, 0], [size, -1, -1, -1]) as tf.Tensor4D);
        const lc = labels && size !== b ? labels.slice([start], [size]) : labels;
        const bpd = model.bitsPerDim(yc, lc);
        lossParts.push(tf.keep(bpd));
        return tf.mul(tf.mean(bpd), size / b) as tf.Scalar;
      }, this.varList);
      value.dispose();
      summed = accumulateGradients(summed, grads, this.tfNameToName);
    }
    y.dispose();
    const flats = flattenGradients(this.optimizer, summed!);
    const norm = flatGlobalNorm(flats);
    const bpdAll = tf.concat(lossParts);
    const meanBpd = tf.mean(bpdAll);
    const [normValue, bpdValue] = await Promise.all([norm.data(), meanBpd.data()]);
    tf.dispose([norm, bpdAll, meanBpd, ...lossParts]);
    const gradNorm = normValue[0]!;
    const bitsPerDim = bpdValue[0]!;

    // A non-finite loss or gradient would poison Adam's moments and every weight: skip the update instead.
    const skipped = !Number.isFinite(gradNorm) || !Number.isFinite(bitsPerDim);
    let emaDecay: number | null = null;
    if (skipped) this.skipped += 1;
    else {
      const maxNorm = this.cfg.clipNorm;
      const scale = maxNorm === undefined ? undefined : tf.scalar(Math.min(1, maxNorm / (gradNorm + 1e-6)));
      this.optimizer.applyFlat(flats, lr, scale);
      scale?.dispose();
      emaDecay = this.ema ? this.ema.update() : null;
    }
    tf.dispose(flats);
    return { step: this.optimizer.step, bitsPerDim, gradNorm, lr, emaDecay, skipped, initialized };
  }

  getState(): GlowTrainerState {
    return trainingStateOf({ optimizer: this.optimizer, ema: this.ema, rng: this.cfg.rng });
  }

  setState(state: GlowTrainerState): void {
    restoreTrainingState({ optimizer: this.optimizer, ema: this.ema, rng: this.cfg.rng }, state);
    if (state.step > 0) this.model.markInitialized();
  }

  dispose(): void {
    if (!('apply' in this.cfg.optimizer)) this.optimizer.dispose();
    this.ema?.dispose();
  }
}

export function createGlowTrainer(config: GlowTrainerConfig): GlowTrainer {
  return new GlowTrainerImpl(config);
}
