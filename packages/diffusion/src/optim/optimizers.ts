import * as tf from '@tensorflow/tfjs';

/**
 * Optimizers over a model's named variables. Their state lives in named tensors so a checkpoint can
 * store it and a resumed run continues bit-for-bit: getState() keys are `<slot>/<variable name>` plus
 * `step` (a scalar).
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
  /** Applies one update. `grads` are keyed by variable name; variables without a gradient are left alone. */
  apply(grads: Map<string, tf.Tensor>, lr: number): void;
  /** Live state tensors (do not dispose them): `m/<name>`, `v/<name>`, `momentum/<name>`, `step`. */
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

class SlotOptimizer implements Optimizer {
  private readonly slots = new Map<string, Map<string, tf.Variable>>();
  private stepCount = 0;
  /** The step count as a tensor too, so getState() hands out only live tensors. */
  private readonly stepVar = tf.variable(tf.scalar(0, 'int32'), false);

  constructor(
    readonly config: OptimizerConfig,
    private readonly variables: Map<string, tf.Variable>,
    slotNames: string[],
  ) {
    for (const slot of slotNames) {
      const m = new Map<string, tf.Variable>();
      for (const [name, v] of variables) m.set(name, tf.variable(tf.zerosLike(v), false));
      this.slots.set(slot, m);
    }
  }

  get step(): number {
    return this.stepCount;
  }

  apply(grads: Map<string, tf.Tensor>, lr: number): void {
    if (!Number.isFinite(lr) || lr < 0) throw new RangeError(`learning rate must be a finite number ≥ 0, got ${lr}`);
    this.stepCount += 1;
    const t = this.stepCount;
    tf.tidy(() => {
      this.stepVar.assign(tf.scalar(t, 'int32'));
      for (const [name, g] of grads) {
        const p = this.variables.get(name);
        if (!p) throw new Error(`optimizer: gradient for unknown variable ${name}`);
        this.update(name, p, g, lr, t);
      }
    });
  }

  private slot(slot: string, name: string): tf.Variable {
    return this.slots.get(slot)!.get(name)!;
  }

  private update(name: string, p: tf.Variable, g: tf.Tensor, lr: number, t: number): void {
    const c = this.config;
    if (c.kind === 'sgd') {
      const momentum = c.momentum ?? 0.9;
      let grad = g;
      if (c.weightDecay) grad = tf.add(grad, tf.mul(p, c.weightDecay));
      const buf = this.slot('momentum', name);
      buf.assign(tf.add(tf.mul(buf, momentum), grad));
      const direction = c.nesterov ? tf.add(grad, tf.mul(buf, momentum)) : buf;
      p.assign(tf.sub(p, tf.mul(direction, lr)));
      return;
    }
    const beta1 = c.beta1 ?? 0.9;
    const beta2 = c.beta2 ?? 0.999;
    const eps = c.epsilon ?? 1e-8;
    const m = this.slot('m', name);
    const v = this.slot('v', name);
    m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
    v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
    // Bias corrections folded into the step size (as in PyTorch): lr·√(1−β2^t)/(1−β1^t).
    const bc1 = 1 - beta1 ** t;
    const bc2 = 1 - beta2 ** t;
    const update = tf.div(tf.mul(m, lr / bc1), tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), eps));
    let next = tf.sub(p, update);
    if (c.kind === 'adamw' && (c.weightDecay ?? 0.01) > 0) next = tf.sub(next, tf.mul(p, lr * (c.weightDecay ?? 0.01)));
    p.assign(next);
  }

  getState(): Map<string, tf.Tensor> {
    const state = new Map<string, tf.Tensor>();
    for (const [slot, m] of this.slots) for (const [name, v] of m) state.set(`${slot}/${name}`, v);
    state.set('step', this.stepVar);
    return state;
  }

  setState(state: Map<string, tf.Tensor>): void {
    const step = state.get('step');
    if (!step) throw new Error('optimizer state has no "step" entry');
    for (const [slot, m] of this.slots) {
      for (const [name, v] of m) {
        const s = state.get(`${slot}/${name}`);
        if (!s) throw new Error(`optimizer state lacks ${slot}/${name} (was it saved by a ${this.config.kind} optimizer over the same model?)`);
        if (s.shape.join() !== v.shape.join()) throw new Error(`optimizer state ${slot}/${name} has shape [${s.shape}], expected [${v.shape}]`);
        v.assign(s);
      }
    }
    this.stepCount = step.dataSync()[0]!;
    this.stepVar.assign(tf.scalar(this.stepCount, 'int32'));
  }

  dispose(): void {
    for (const m of this.slots.values()) for (const v of m.values()) v.dispose();
    this.slots.clear();
    this.stepVar.dispose();
  }
}

export function createOptimizer(variables: Map<string, tf.Variable>, config: OptimizerConfig): Optimizer {
  switch (config.kind) {
    case 'adam':
    case 'adamw':
      checkRange('beta1', config.beta1 ?? 0.9, 0, 1);
      checkRange('beta2', config.beta2 ?? 0.999, 0, 1);
      if (config.kind === 'adamw') checkRange('weightDecay', config.weightDecay ?? 0.01, 0, 1, false);
      return new SlotOptimizer(config, variables, ['m', 'v']);
    case 'sgd':
      checkRange('momentum', config.momentum ?? 0.9, 0, 1);
      return new SlotOptimizer(config, variables, ['momentum']);
    default:
      throw new RangeError(`optimizer.kind must be 'adam', 'adamw' or 'sgd', got ${String((config as { kind: unknown }).kind)}`);
  }
}
