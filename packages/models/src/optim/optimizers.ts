import * as tf from '@tensorflow/tfjs';
import type { Ema } from './ema.ts';
import { FlatLayout } from './flat.ts';
import { fusedAdam, fusedUpdatesAvailable } from './fused-updates.ts';
import { webgpuKernelsActive } from '../nn/webgpu/enabled.ts';
import { webgpuAdamEma, webgpuOptimAvailable, type AdamConstants } from '../nn/webgpu/optim.ts';

/**
 * Optimizers over a model's named variables. Slots (moments, momentum) are kept in flat buckets (see
 * flat.ts) so an update is a few large ops. getState() hands out per-variable tensors keyed
 * `<slot>/<variable name>` plus `step`, so checkpoints do not depend on the bucket layout.
 */
export type OptimizerConfig =
  | { kind: 'adam'; beta1?: number; beta2?: number; epsilon?: number }
  | { kind: 'adamw'; beta1?: number; beta2?: number; epsilon?: number; weightDecay?: number }
  | { kind: 'sgd'; momentum?: number; nesterov?: boolean; weightDecay?: number };

export type OptimizerKind = OptimizerConfig['kind'];

export interface Optimizer {
  readonly config: OptimizerConfig;
  /** Number of updates applied so far. */
  readonly step: number;
  /** How variables are packed; applyFlat takes gradients in this layout. */
  readonly layout: FlatLayout;
  /** Applies one update. `grads` are keyed by variable name; a variable without a gradient gets zero. */
  apply(grads: Map<string, tf.Tensor>, lr: number): void;
  /**
   * Same, with gradients already flattened per bucket and an optional scale (gradient clipping). With `ema`, also
   * updates that EMA of the new weights (in the same kernel on webgpu) and returns the decay it used. With `gated`
   * (loss scaling, webgpu's fused Adam+EMA only: see fusesEma), `gradScale` is the [multiplier, finite] pair of
   * webgpuLossScaleStep and a non-finite step leaves weights, moments and EMA as they were.
   */
  applyFlat(flatGrads: tf.Tensor1D[], lr: number, gradScale?: tf.Tensor, ema?: Ema, gated?: boolean): number | null;
  /** Whether applyFlat runs Adam and this EMA as one webgpu kernel per bucket here (what `gated` needs). */
  fusesEma(ema: Ema): boolean;
  /**
   * State tensors by name: `m/<name>`, `v/<name>`, `momentum/<name>` and `step`. They stay valid until the
   * next update or setState (then they are disposed): save them right away, do not dispose them.
   */
  getState(): Map<string, tf.Tensor>;
  /** Copies a state produced by getState() of an optimizer of the same kind over the same variables. */
  setState(state: Map<string, tf.Tensor>): void;
  dispose(): void;
}

function checkRange(field: string, v: number, lo: number, hi: number, hiOpen = true): void {
  if (!(v >= lo && (hiOpen ? v < hi : v <= hi))) {
    throw new RangeError(`optimizer.${field} must be in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${v}`);
  }
}

type AdamConfig = Extract<OptimizerConfig, { kind: 'adam' | 'adamw' }>;

/** Step t's Adam constants, bias corrections folded into the step size (as in PyTorch): lr·m̂/(√v̂ + ε). */
function adamConstants(c: AdamConfig, lr: number, t: number): AdamConstants {
  const beta1 = c.beta1 ?? 0.9;
  const beta2 = c.beta2 ?? 0.999;
  const decay = c.kind === 'adamw' ? (c.weightDecay ?? 0.01) : 0;
  return {
    beta1,
    beta2,
    stepSize: lr / (1 - beta1 ** t),
    invSqrtBc2: 1 / Math.sqrt(1 - beta2 ** t),
    eps: c.epsilon ?? 1e-8,
    keep: 1 - lr * decay,
  };
}

class FlatOptimizer implements Optimizer {
  readonly layout: FlatLayout;
  /** slot name → one flat variable per bucket. */
  private readonly slots = new Map<string, tf.Variable[]>();
  private stepCount = 0;
  private stateCache: Map<string, tf.Tensor> | null = null;

  constructor(
    readonly config: OptimizerConfig,
    private readonly variables: Map<string, tf.Variable>,
    slotNames: string[],
  ) {
    this.layout = new FlatLayout(variables);
    for (const slot of slotNames) {
      this.slots.set(
        slot,
        this.layout.buckets.map((b) => tf.variable(tf.zeros([b.size]), false)),
      );
    }
  }

  get step(): number {
    return this.stepCount;
  }

  apply(grads: Map<string, tf.Tensor>, lr: number): void {
    for (const name of grads.keys())
      if (!this.variables.has(name)) throw new Error(`optimizer: gradient for unknown variable ${name}`);
    const flats = this.layout.buckets.map((_, i) => this.layout.flatten(grads, i));
    this.applyFlat(flats, lr);
    tf.dispose(flats);
  }

  applyFlat(flatGrads: tf.Tensor1D[], lr: number, gradScale?: tf.Tensor, ema?: Ema, gated = false): number | null {
    if (!Number.isFinite(lr) || lr < 0) throw new RangeError(`learning rate must be a finite number ≥ 0, got ${lr}`);
    if (flatGrads.length !== this.layout.buckets.length)
      throw new Error(`optimizer: expected ${this.layout.buckets.length} gradient buckets, got ${flatGrads.length}`);
    const fused = ema !== undefined && this.fusesEma(ema);
    if (gated && !(fused && gradScale))
      throw new Error('optimizer: a loss-scaled (gated) step needs webgpu’s fused Adam+EMA kernel and a gate tensor');
    this.dropStateCache();
    this.stepCount += 1;
    if (ema && fused && this.config.kind !== 'sgd') {
      return this.adamEmaUpdate(flatGrads, adamConstants(this.config, lr, this.stepCount), ema, gradScale, gated);
    }
    flatGrads.forEach((g, i) => {
      const next = tf.tidy(() => {
        const p = this.layout.flatten(this.variables, i);
        if (this.config.kind === 'sgd')
          return this.sgdUpdate(this.config, i, p, gradScale ? tf.mul(g, gradScale) : g, lr);
        return this.adamUpdate(i, p, g, adamConstants(this.config, lr, this.stepCount), gradScale as tf.Scalar);
      });
      this.layout.assign(next, i, this.variables);
      next.dispose();
    });
    return ema ? ema.update() : null;
  }

  /** Whether Adam and the EMA update run as one webgpu kernel per bucket here. */
  fusesEma(ema: Ema): boolean {
    if (this.config.kind === 'sgd' || !webgpuKernelsActive() || !webgpuOptimAvailable()) return false;
    const sizes = ema.bucketSizes();
    return sizes.length === this.layout.buckets.length && sizes.every((n, i) => n === this.layout.buckets[i]!.size);
  }

  /** Adam(W) and the EMA of the new weights in one pass per bucket (nn/webgpu/optim.ts); returns the EMA decay. */
  private adamEmaUpdate(
    flatGrads: tf.Tensor1D[],
    k: AdamConstants,
    ema: Ema,
    gradScale: tf.Tensor | undefined,
    gated: boolean,
  ): number {
    const { decay, buckets } = ema.beginFusedUpdate();
    const shadows = flatGrads.map((g, i) => {
      const m = this.slots.get('m')![i]!;
      const v = this.slots.get('v')![i]!;
      const p = this.layout.flatten(this.variables, i);
      const [next, m2, v2, e2] = webgpuAdamEma(
        p,
        g,
        m as tf.Tensor1D,
        v as tf.Tensor1D,
        buckets[i]!,
        k,
        decay,
        gradScale,
        gated,
      );
      p.dispose();
      m.assign(m2!);
      v.assign(v2!);
      tf.dispose([m2!, v2!]);
      this.layout.assign(next!, i, this.variables);
      next!.dispose();
      return e2!;
    });
    ema.finishFusedUpdate(shadows);
    tf.dispose(shadows);
    return decay;
  }

  /** SGD with momentum: updates the slot of bucket i and returns the new flat parameters. */
  private sgdUpdate(
    c: Extract<OptimizerConfig, { kind: 'sgd' }>,
    i: number,
    p: tf.Tensor1D,
    g: tf.Tensor,
    lr: number,
  ): tf.Tensor1D {
    const momentum = c.momentum ?? 0.9;
    const grad = c.weightDecay ? tf.add(g, tf.mul(p, c.weightDecay)) : g;
    const buf = this.slots.get('momentum')![i]!;
    buf.assign(tf.add(tf.mul(buf, momentum), grad));
    const direction = c.nesterov ? tf.add(grad, tf.mul(buf, momentum)) : buf;
    return tf.sub(p, tf.mul(direction, lr));
  }

  /**
   * Adam(W): updates the slots of bucket i and returns the new flat parameters; `gradScale` multiplies the
   * gradient (clipping). On wasm one kernel pass (fused-updates.ts), elsewhere the same arithmetic as ops.
   */
  private adamUpdate(i: number, p: tf.Tensor1D, g: tf.Tensor1D, k: AdamConstants, gradScale?: tf.Scalar): tf.Tensor1D {
    const m = this.slots.get('m')![i]!;
    const v = this.slots.get('v')![i]!;
    if (fusedUpdatesAvailable()) {
      const [next, m2, v2] = fusedAdam(p, g, m as tf.Tensor1D, v as tf.Tensor1D, k, gradScale);
      m.assign(m2);
      v.assign(v2);
      return next;
    }
    const gs = gradScale ? tf.mul(g, gradScale) : g;
    m.assign(tf.add(tf.mul(m, k.beta1), tf.mul(gs, 1 - k.beta1)));
    v.assign(tf.add(tf.mul(v, k.beta2), tf.mul(tf.square(gs), 1 - k.beta2)));
    const update = tf.div(tf.mul(m, k.stepSize), tf.add(tf.mul(tf.sqrt(v), k.invSqrtBc2), k.eps));
    // AdamW: decoupled decay p ← p − lr·λ·p, applied to the pre-update weights.
    return tf.sub(k.keep !== 1 ? tf.mul(p, k.keep) : p, update);
  }

  private dropStateCache(): void {
    if (this.stateCache) tf.dispose([...this.stateCache.values()]);
    this.stateCache = null;
  }

  getState(): Map<string, tf.Tensor> {
    if (this.stateCache) return this.stateCache;
    const state = new Map<string, tf.Tensor>();
    for (const [slot, flats] of this.slots) {
      flats.forEach((flat, i) => {
        for (const [name, t] of this.layout.unflatten(flat as tf.Tensor1D, i)) state.set(`${slot}/${name}`, t);
      });
    }
    state.set('step', tf.scalar(this.stepCount, 'int32'));
    this.stateCache = state;
    return state;
  }

  setState(state: Map<string, tf.Tensor>): void {
    const step = state.get('step');
    if (!step) throw new Error('optimizer state has no "step" entry');
    for (const [slot, flats] of this.slots) {
      const named = new Map<string, tf.Tensor>();
      for (const [name, v] of this.variables) {
        const s = state.get(`${slot}/${name}`);
        if (!s)
          throw new Error(
            `optimizer state lacks ${slot}/${name} (was it saved by a ${this.config.kind} optimizer over the same model?)`,
          );
        if (s.shape.join() !== v.shape.join())
          throw new Error(
            `optimizer state ${slot}/${name} has shape [${s.shape.join(',')}], expected [${v.shape.join(',')}]`,
          );
        named.set(name, s);
      }
      flats.forEach((flat, i) => {
        const packed = this.layout.flatten(named, i);
        flat.assign(packed);
        packed.dispose();
      });
    }
    this.stepCount = step.dataSync()[0]!;
    this.dropStateCache();
  }

  dispose(): void {
    this.dropStateCache();
    for (const flats of this.slots.values()) tf.dispose(flats);
    this.slots.clear();
  }
}

export function createOptimizer(variables: Map<string, tf.Variable>, config: OptimizerConfig): Optimizer {
  switch (config.kind) {
    case 'adam':
    case 'adamw':
      checkRange('beta1', config.beta1 ?? 0.9, 0, 1);
      checkRange('beta2', config.beta2 ?? 0.999, 0, 1);
      if (config.kind === 'adamw') checkRange('weightDecay', config.weightDecay ?? 0.01, 0, 1, false);
      return new FlatOptimizer(config, variables, ['m', 'v']);
    case 'sgd':
      checkRange('momentum', config.momentum ?? 0.9, 0, 1);
      return new FlatOptimizer(config, variables, ['momentum']);
    default:
      throw new RangeError(
        `optimizer.kind must be 'adam', 'adamw' or 'sgd', got ${String((config as { kind: unknown }).kind)}`,
      );
  }
}
