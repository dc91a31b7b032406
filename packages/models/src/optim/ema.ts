import * as tf from '@tensorflow/tfjs';
import { FlatLayout } from './flat.ts';
import { fusedAxpby, fusedUpdatesAvailable } from './fused-updates.ts';

/**
 * Exponential moving average of the weights, with the warmup of TensorFlow's ExponentialMovingAverage
 * (num_updates): decay_n = min(maxDecay, (1+n)/(10+n)), so early averages are not dominated by the
 * random initialisation. The shadow weights are what gets published and sampled from. They are kept in
 * flat buckets (see flat.ts) so an update is three large ops per bucket.
 */
export interface EmaConfig {
  /** Default 0.9999 (DDPM). */
  maxDecay?: number;
  /** Use the (1+n)/(10+n) warmup (default true). */
  warmup?: boolean;
}

export class Ema {
  readonly maxDecay: number;
  private readonly warmup: boolean;
  private readonly layout: FlatLayout;
  private readonly flats: tf.Variable[];
  private updates = 0;
  private shadowCache: Map<string, tf.Tensor> | null = null;
  private updatesTensor: tf.Tensor | null = null;

  constructor(
    private readonly variables: Map<string, tf.Variable>,
    config: EmaConfig = {},
  ) {
    this.maxDecay = config.maxDecay ?? 0.9999;
    if (!(this.maxDecay >= 0 && this.maxDecay < 1))
      throw new RangeError(`ema.maxDecay must be in [0, 1), got ${this.maxDecay}`);
    this.warmup = config.warmup ?? true;
    this.layout = new FlatLayout(variables);
    this.flats = this.layout.buckets.map((_, i) => {
      const flat = this.layout.flatten(variables, i);
      const v = tf.variable(flat, false);
      flat.dispose();
      return v;
    });
  }

  /** Number of updates applied. */
  get count(): number {
    return this.updates;
  }

  /** The decay the next update will use. */
  nextDecay(): number {
    const n = this.updates;
    return this.warmup ? Math.min(this.maxDecay, (1 + n) / (10 + n)) : this.maxDecay;
  }

  /** shadow ← d·shadow + (1−d)·weights; returns the decay d used. */
  update(): number {
    const d = this.nextDecay();
    this.dropCache();
    this.flats.forEach((s, i) => {
      tf.tidy(() => {
        const weights = this.layout.flatten(this.variables, i);
        s.assign(
          fusedUpdatesAvailable()
            ? fusedAxpby(s as tf.Tensor1D, weights, d, 1 - d)
            : tf.add(tf.mul(s, d), tf.mul(weights, 1 - d)),
        );
      });
    });
    this.updates += 1;
    return d;
  }

  /**
   * For an optimizer that updates the EMA in its own kernel (webgpu, optimizers.ts): the decay of this update and
   * the shadow buckets (same layout as the optimizer's); hand the new buckets to finishFusedUpdate.
   */
  beginFusedUpdate(): { decay: number; buckets: tf.Tensor1D[] } {
    const decay = this.nextDecay();
    this.dropCache();
    return { decay, buckets: this.flats as tf.Tensor1D[] };
  }

  finishFusedUpdate(next: tf.Tensor1D[]): void {
    next.forEach((t, i) => this.flats[i]!.assign(t));
    this.updates += 1;
  }

  /** Bucket sizes, for an optimizer checking that it packs variables the same way. */
  bucketSizes(): number[] {
    return this.layout.buckets.map((b) => b.size);
  }

  /**
   * Shadow weights by variable name. Valid until the next update/setState (then disposed): read or save
   * them right away, do not dispose them.
   */
  get shadow(): Map<string, tf.Tensor> {
    if (!this.shadowCache) {
      const out = new Map<string, tf.Tensor>();
      this.flats.forEach((flat, i) => {
        for (const [name, t] of this.layout.unflatten(flat as tf.Tensor1D, i)) out.set(name, t);
      });
      this.shadowCache = out;
    }
    return this.shadowCache;
  }

  /** Copies the shadow weights into a model's variables (e.g. an inference copy with the same names). */
  copyTo(target: Map<string, tf.Variable>): void {
    for (const name of this.variables.keys())
      if (!target.has(name)) throw new Error(`ema.copyTo: target has no variable ${name}`);
    this.flats.forEach((flat, i) => this.layout.assign(flat as tf.Tensor1D, i, target));
  }

  /** Shadow tensors by variable name plus `ema/updates`; same lifetime rule as `shadow`. */
  getState(): Map<string, tf.Tensor> {
    const state = new Map(this.shadow);
    this.updatesTensor ??= tf.scalar(this.updates, 'int32');
    state.set('ema/updates', this.updatesTensor);
    return state;
  }

  setState(state: Map<string, tf.Tensor>): void {
    for (const name of this.variables.keys()) if (!state.has(name)) throw new Error(`EMA state lacks ${name}`);
    this.flats.forEach((flat, i) => {
      const packed = this.layout.flatten(state, i);
      flat.assign(packed);
      packed.dispose();
    });
    this.updates = state.get('ema/updates')?.dataSync()[0] ?? 0;
    this.dropCache();
  }

  private dropCache(): void {
    if (this.shadowCache) tf.dispose([...this.shadowCache.values()]);
    this.shadowCache = null;
    this.updatesTensor?.dispose();
    this.updatesTensor = null;
  }

  dispose(): void {
    this.dropCache();
    tf.dispose(this.flats);
  }
}
