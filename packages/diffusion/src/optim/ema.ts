import * as tf from '@tensorflow/tfjs';

/**
 * Exponential moving average of the weights, with the warmup of Tensorflow's ExponentialMovingAverage
 * (num_updates): decay_n = min(maxDecay, (1+n)/(10+n)), so early averages are not dominated by the
 * random initialisation. The shadow weights are what gets published and sampled from.
 */
export interface EmaConfig {
  /** Default 0.9999 (DDPM). */
  maxDecay?: number;
  /** Use the (1+n)/(10+n) warmup (default true). */
  warmup?: boolean;
}

export class Ema {
  readonly shadow = new Map<string, tf.Variable>();
  private updates = 0;
  private readonly updatesVar = tf.variable(tf.scalar(0, 'int32'), false);
  readonly maxDecay: number;
  private readonly warmup: boolean;

  constructor(private readonly variables: Map<string, tf.Variable>, config: EmaConfig = {}) {
    this.maxDecay = config.maxDecay ?? 0.9999;
    if (!(this.maxDecay >= 0 && this.maxDecay < 1)) throw new RangeError(`ema.maxDecay must be in [0, 1), got ${this.maxDecay}`);
    this.warmup = config.warmup ?? true;
    for (const [name, v] of variables) this.shadow.set(name, tf.variable(v.clone(), false));
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
    tf.tidy(() => {
      for (const [name, s] of this.shadow) s.assign(tf.add(tf.mul(s, d), tf.mul(this.variables.get(name)!, 1 - d)));
      this.updates += 1;
      this.updatesVar.assign(tf.scalar(this.updates, 'int32'));
    });
    return d;
  }

  /** Copies the shadow weights into a model's variables (e.g. an inference copy). */
  copyTo(target: Map<string, tf.Variable>): void {
    for (const [name, s] of this.shadow) {
      const v = target.get(name);
      if (!v) throw new Error(`ema.copyTo: target has no variable ${name}`);
      v.assign(s);
    }
  }

  /** Live shadow tensors by variable name plus `ema/updates` (do not dispose them). */
  getState(): Map<string, tf.Tensor> {
    const state = new Map<string, tf.Tensor>(this.shadow);
    state.set('ema/updates', this.updatesVar);
    return state;
  }

  setState(state: Map<string, tf.Tensor>): void {
    for (const [name, s] of this.shadow) {
      const v = state.get(name);
      if (!v) throw new Error(`EMA state lacks ${name}`);
      s.assign(v);
    }
    this.updates = state.get('ema/updates')?.dataSync()[0] ?? 0;
    this.updatesVar.assign(tf.scalar(this.updates, 'int32'));
  }

  dispose(): void {
    for (const s of this.shadow.values()) s.dispose();
    this.shadow.clear();
    this.updatesVar.dispose();
  }
}
