import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { clipByGlobalNorm } from './clip.ts';
import { Ema } from './ema.ts';
import { learningRateAt, validateLrSchedule } from './lr.ts';
import { createOptimizer, type OptimizerConfig } from './optimizers.ts';

/** Plain float64 reference implementations on one scalar parameter. */
function reference(config: OptimizerConfig, p0: number, grads: number[], lr: number): number[] {
  let p = p0;
  let m = 0;
  let v = 0;
  let buf = 0;
  const out: number[] = [];
  grads.forEach((g0, i) => {
    const t = i + 1;
    if (config.kind === 'sgd') {
      const g = g0 + (config.weightDecay ?? 0) * p;
      buf = (config.momentum ?? 0.9) * buf + g;
      p -= lr * (config.nesterov ? g + (config.momentum ?? 0.9) * buf : buf);
    } else {
      m = 0.9 * m + 0.1 * g0;
      v = 0.999 * v + 0.001 * g0 * g0;
      const mh = m / (1 - 0.9 ** t);
      const vh = v / (1 - 0.999 ** t);
      const decay = config.kind === 'adamw' ? lr * (config.weightDecay ?? 0.01) * p : 0;
      p = p - (lr * mh) / (Math.sqrt(vh) + 1e-8) - decay;
    }
    out.push(p);
  });
  return out;
}

describe('optimizers', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'cpu' });
  });

  const configs: OptimizerConfig[] = [
    { kind: 'adam' },
    { kind: 'adamw', weightDecay: 0.1 },
    { kind: 'sgd', momentum: 0.9 },
    { kind: 'sgd', momentum: 0.5, nesterov: true, weightDecay: 0.01 },
  ];
  for (const config of configs) {
    it(`${JSON.stringify(config)} follows the float64 reference`, async () => {
      const vars = new Map([['w', tf.variable(tf.tensor1d([1.5]))]]);
      const opt = createOptimizer(vars, config);
      const grads = [0.3, -0.2, 0.5, 0.1, -0.4];
      const expected = reference(config, 1.5, grads, 0.05);
      for (let i = 0; i < grads.length; i++) {
        const g = tf.tensor1d([grads[i]!]);
        opt.apply(new Map([['w', g]]), 0.05);
        g.dispose();
        expect((await vars.get('w')!.data())[0]).toBeCloseTo(expected[i]!, 5);
      }
      expect(opt.step).toBe(5);
      opt.dispose();
      vars.get('w')!.dispose();
    });
  }

  it('state round-trips: a restored optimizer continues the same trajectory', async () => {
    const run = (steps: number[], restoreAt?: number) => {
      const w = tf.variable(tf.tensor1d([1, -2, 3]));
      const vars = new Map([['w', w]]);
      let opt = createOptimizer(vars, { kind: 'adam' });
      steps.forEach((g, i) => {
        if (i === restoreAt) {
          const saved = new Map([...opt.getState()].map(([k, t]) => [k, t.clone()]));
          opt.dispose();
          opt = createOptimizer(vars, { kind: 'adam' });
          opt.setState(saved);
          saved.forEach((t) => t.dispose());
        }
        const grad = tf.tidy(() => tf.mul(w, g));
        opt.apply(new Map([['w', grad]]), 0.1);
        grad.dispose();
      });
      const out = w.dataSync();
      opt.dispose();
      w.dispose();
      return Array.from(out);
    };
    const gs = [1, 0.5, -0.3, 0.8, 0.2, -1];
    expect(run(gs, 3)).toEqual(run(gs));
  });

  it('rejects bad settings naming the field', () => {
    const vars = new Map<string, tf.Variable>();
    expect(() => createOptimizer(vars, { kind: 'adam', beta1: 1 })).toThrow(/optimizer\.beta1/);
    expect(() => createOptimizer(vars, { kind: 'rmsprop' } as never)).toThrow(/optimizer\.kind/);
  });
});

describe('learning-rate schedule', () => {
  it('warms up linearly, then stays constant or follows a cosine to minLr', () => {
    const constant = { base: 1e-3, warmupSteps: 10 };
    expect(learningRateAt(constant, 0)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(constant, 9)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(constant, 5000)).toBe(1e-3);
    const cosine = { base: 1e-3, warmupSteps: 10, decay: 'cosine' as const, totalSteps: 110, minLr: 1e-5 };
    validateLrSchedule(cosine);
    expect(learningRateAt(cosine, 10)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(cosine, 60)).toBeCloseTo(1e-5 + 0.5 * (1e-3 - 1e-5), 12);
    expect(learningRateAt(cosine, 110)).toBeCloseTo(1e-5, 12);
    expect(learningRateAt(cosine, 500)).toBeCloseTo(1e-5, 12);
    expect(() => validateLrSchedule({ base: 1e-3, decay: 'cosine' })).toThrow(/lr\.totalSteps/);
  });
});

describe('clipByGlobalNorm', () => {
  it('reports the global norm and rescales only above the limit', async () => {
    const grads = new Map<string, tf.Tensor>([
      ['a', tf.tensor1d([3, 0])],
      ['b', tf.tensor2d([[0, 4]])],
    ]);
    const clipped = clipByGlobalNorm(grads, 1);
    expect((await clipped.norm.data())[0]).toBeCloseTo(5, 5);
    expect(Array.from(await clipped.grads.get('a')!.data())).toEqual([expect.closeTo(0.6, 5), 0]);
    const loose = clipByGlobalNorm(grads, 10);
    expect(Array.from(await loose.grads.get('b')!.data())).toEqual([0, expect.closeTo(4, 5)]);
  });
});

describe('Ema', () => {
  it('uses decay min(max, (1+n)/(10+n)) and averages the weights', async () => {
    const w = tf.variable(tf.tensor1d([0]));
    const ema = new Ema(new Map([['w', w]]), { maxDecay: 0.5 });
    w.assign(tf.tensor1d([1]));
    expect(ema.update()).toBeCloseTo(0.1, 12); // (1+0)/(10+0)
    expect((await ema.shadow.get('w')!.data())[0]).toBeCloseTo(0.9, 6);
    expect(ema.update()).toBeCloseTo(2 / 11, 12);
    for (let i = 0; i < 20; i++) ema.update();
    expect(ema.nextDecay()).toBe(0.5);
    expect((await ema.shadow.get('w')!.data())[0]).toBeCloseTo(1, 4);
    const state = ema.getState();
    const copy = new Ema(new Map([['w', w]]), { maxDecay: 0.5 });
    copy.setState(state);
    expect(copy.count).toBe(22);
    const target = new Map([['w', tf.variable(tf.tensor1d([7]))]]);
    ema.copyTo(target);
    expect((await target.get('w')!.data())[0]).toBeCloseTo(1, 4);
  });
});
