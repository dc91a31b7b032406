import * as tf from '@tensorflow/tfjs';
import { webgpuKernelsActive } from '../nn/webgpu/enabled.ts';
import { webgpuLossScaleStep, webgpuOptimAvailable } from '../nn/webgpu/optim.ts';
import { deviceCaps, webgpuInternals } from '../nn/webgpu/runtime.ts';
import { PRECISIONS, type Precision } from './precision.ts';

/**
 * Mixed precision for the trainer (issue #14): 'mixed-f16' stages our GEMM tiles in f16 on a webgpu device with
 * shader-f16 (products and sums stay f32) and scales the loss dynamically so that f16-rounded gradients do not
 * underflow; 'fp32' (the default) is the f32 path everywhere. Weights, Adam moments, the EMA and checkpoints stay
 * f32 either way.
 */
export { PRECISIONS, type Precision };

export interface LossScaleConfig {
  /** The scale S the run starts with (a power of two). Default 2^15. */
  initialScale?: number;
  /** S doubles after this many finite steps in a row. Default 2000 (PyTorch's GradScaler). */
  growthInterval?: number;
}

/**
 * 2^15: f16's largest finite value is 65504 ≈ 2^16, so a loss near 1 times S = 2^15 stays finite with a factor two
 * to spare, while dY values down to ~2^-39 (f16's smallest subnormal 2^-24 / S) survive the rounding into f16
 * tiles. PyTorch starts at 2^16 and lets the first overflowing steps halve it; one step lower skips fewer of those.
 */
export const DEFAULT_INITIAL_LOSS_SCALE = 2 ** 15;
export const DEFAULT_GROWTH_INTERVAL = 2000;

export function validatePrecision(precision: unknown): Precision {
  if (precision === undefined) return 'fp32';
  if (typeof precision !== 'string' || !(PRECISIONS as readonly string[]).includes(precision))
    throw new RangeError(`trainer.precision must be one of ${PRECISIONS.join(', ')}, got ${JSON.stringify(precision)}`);
  return precision as Precision;
}

export function validateLossScale(c: LossScaleConfig | undefined): Required<LossScaleConfig> {
  const initialScale = c?.initialScale ?? DEFAULT_INITIAL_LOSS_SCALE;
  const growthInterval = c?.growthInterval ?? DEFAULT_GROWTH_INTERVAL;
  // A power of two keeps scaling and unscaling exact (the update equals the fp32 one).
  if (!(initialScale > 0 && Number.isFinite(initialScale) && Number.isInteger(Math.log2(initialScale))))
    throw new RangeError(`trainer.lossScale.initialScale must be a power of two, got ${initialScale}`);
  if (!(Number.isInteger(growthInterval) && growthInterval >= 1 && growthInterval <= 2 ** 24))
    throw new RangeError(`trainer.lossScale.growthInterval must be a whole number in [1, 2^24], got ${growthInterval}`);
  return { initialScale, growthInterval };
}

/** What a trainer asked for, what it runs, and in words why (the trainer app logs it on its compute: line). */
export interface PrecisionChoice {
  requested: Precision;
  active: Precision;
  note: string;
}

/**
 * Whether mixed-f16 can run here; else fp32 with the reason. `fusedUpdate`: whether the optimizer runs Adam(W) and
 * the EMA as one webgpu kernel, the kernel that can skip an overflowing step without reading anything back.
 * The trainer calls it once, with its own optimizer and EMA, and exposes the answer as `trainer.precision`: report
 * that rather than resolving again from a config (a proxy can disagree with what the trainer runs).
 */
export function resolvePrecision(requested: Precision, fusedUpdate: () => boolean): PrecisionChoice {
  if (requested === 'fp32') return { requested, active: 'fp32', note: 'precision fp32' };
  const fallback = (why: string): PrecisionChoice => ({
    requested,
    active: 'fp32',
    note: `precision fp32 (mixed-f16 requested, but ${why}: training in fp32)`,
  });
  const backend = tf.getBackend();
  if (backend !== 'webgpu') return fallback(`it needs the webgpu backend and this is ${backend}`);
  const internals = webgpuInternals();
  if (!webgpuKernelsActive() || !internals || !webgpuOptimAvailable())
    return fallback('our webgpu kernels are not active');
  if (!deviceCaps(internals.device).f16) return fallback('the adapter does not offer shader-f16');
  if (!fusedUpdate())
    return fallback('loss scaling needs Adam(W) with the EMA on (their fused update skips overflows)');
  return {
    requested,
    active: 'mixed-f16',
    note: 'precision mixed-f16 (GEMM tiles in f16, f32 sums; dynamic loss scaling)',
  };
}

/**
 * Dynamic loss scaling with its state on the device: [S, finite steps in a row, skipped steps, last step skipped],
 * updated by one dispatch per step (nn/webgpu/optim.ts' DappleLossScaleStep), never read back inside a step.
 * The state is not part of checkpoints: a resumed run starts again from the initial scale (at most a few skipped
 * steps while S finds its level again).
 */
export class LossScaler {
  readonly state: tf.Variable;
  readonly growthInterval: number;

  constructor(config?: LossScaleConfig) {
    const c = validateLossScale(config);
    this.growthInterval = c.growthInterval;
    this.state = tf.variable(tf.tensor1d([c.initialScale, 0, 0, 0]), false);
  }

  /** S as a scalar tensor (multiply the loss by it inside the gradient function). */
  scale(): tf.Scalar {
    return tf.tidy(() => tf.reshape(tf.slice(this.state, [0], [1]), []) as tf.Scalar);
  }

  /**
   * For gradients of S·loss: the unscaled global norm, the gate for optimizer.applyFlat(…, gated = true), and the
   * state after this step (also kept: the caller may read it later as this step's metrics; it disposes `gate` and
   * `after`).
   */
  step(flats: tf.Tensor1D[], clipNorm: number | undefined): { norm: tf.Scalar; gate: tf.Tensor1D; after: tf.Tensor1D } {
    const { norm, gate, next } = webgpuLossScaleStep(flats, this.state as tf.Tensor1D, clipNorm, this.growthInterval);
    this.state.assign(next);
    return { norm, gate, after: next };
  }

  dispose(): void {
    this.state.dispose();
  }
}
