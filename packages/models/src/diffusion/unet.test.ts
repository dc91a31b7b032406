import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { timestepEmbedding } from '../nn/embedding.ts';
import { countUNetParams } from './param-count.ts';
import { presetConfig, presetInfo } from './presets.ts';
import { createUNet, type UNetConfig } from './unet.ts';
import { microUNetConfig } from '../testing/micro-unet.ts';

const micro = microUNetConfig();

describe('createUNet', () => {
  beforeAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  it('presets report parameter counts; base is the DDPM CIFAR-10 model (35.7M)', () => {
    const info = presetInfo();
    const base = info.find((p) => p.name === 'base')!;
    expect(base.params / 1e6).toBeCloseTo(35.7, 1);
    const tiny = info.find((p) => p.name === 'tiny')!;
    expect(tiny.params).toBeGreaterThan(100_000);
    expect(tiny.params).toBeLessThan(300_000);
    expect(presetConfig('tiny', { channels: 1 }).channels).toBe(1);
  });

  for (const [name, config] of [
    ['micro', micro],
    ['micro, conditional + learned sigma', { ...micro, numClasses: 5, learnSigma: true }],
    ['micro, conditional, scale-shift norm', { ...micro, numClasses: 5, scaleShiftNorm: true }],
    ['tiny', presetConfig('tiny')],
    ['small', presetConfig('small', { channels: 1 })],
  ] as const) {
    it(`${name}: variable count matches the arithmetic count and output shape is right`, () => {
      const before = tf.memory().numTensors;
      const model = createUNet(config, 1);
      expect(model.paramCount()).toBe(countUNetParams(config));
      const b = 2;
      const x = tf.randomNormal([b, config.resolution, config.resolution, config.channels]) as tf.Tensor4D;
      const t = tf.tensor1d([0, 999], 'int32');
      const y = model.apply(x, t, config.numClasses ? tf.tensor1d([0, config.numClasses], 'int32') : undefined);
      expect(y.shape).toEqual([b, config.resolution, config.resolution, config.channels * (config.learnSigma ? 2 : 1)]);
      tf.dispose([x, t, y]);
      model.dispose();
      expect(tf.memory().numTensors).toBe(before + (config.numClasses ? 1 : 0));
    });
  }

  it('names parameters stably and initialises them from the seed', async () => {
    const a = createUNet(micro, 7);
    const b = createUNet(micro, 7);
    const c = createUNet(micro, 8);
    const names = [...a.variables.keys()];
    expect(names).toContain('down.0.res.0.conv1.kernel');
    expect(names).toContain('down.0.downsample.conv.kernel');
    expect(names).toContain('mid.attn.q.kernel');
    expect(names).toContain('up.1.res.1.norm1.gamma');
    expect(names).toContain('up.1.attn.0.proj.kernel');
    expect(names).toContain('out.conv.kernel');
    expect([...b.variables.keys()]).toEqual(names);
    const k = 'down.0.res.0.conv1.kernel';
    expect(await a.variables.get(k)!.data()).toEqual(await b.variables.get(k)!.data());
    expect(await a.variables.get(k)!.data()).not.toEqual(await c.variables.get(k)!.data());
    // Zero-initialised output conv: an untrained model predicts exactly 0.
    expect(Math.max(...(await a.variables.get('out.conv.kernel')!.data()))).toBe(0);
    [a, b, c].forEach((m) => m.dispose());
  });

  for (const scaleShiftNorm of [false, true])
    it(`gradients reach every parameter once the zero-initialised outputs have moved (scale-shift norm ${scaleShiftNorm})`, () => {
      const model = createUNet({ ...micro, numClasses: 3, scaleShiftNorm }, 3);
      // Perturb every variable so no gradient is blocked by a zero-initialised layer.
      for (const v of model.variables.values()) v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.05))));
      const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
      const t = tf.tensor1d([3, 500], 'int32');
      const labels = tf.tensor1d([1, 3], 'int32');
      const { grads } = tf.variableGrads(
        () => tf.mean(tf.square(model.apply(x, t, labels, { training: true }))) as tf.Scalar,
        [...model.variables.values()],
      );
      const norms = tf.tidy(() => Object.values(grads).map((g) => tf.norm(g).dataSync()[0]!));
      expect(norms).toHaveLength(model.variables.size);
      for (const n of norms) expect(n).toBeGreaterThan(0);
      tf.dispose([x, t, labels, ...Object.values(grads)]);
      model.dispose();
    });

  it('the class label reaches the output through a one-channel-per-group GroupNorm only with scale-shift norm', async () => {
    // With groups = channels every GroupNorm normalises each channel over space: a bias added before it (DDPM's
    // embedding injection) is removed exactly, so neither the label nor t can change anything. Scale-shift norm
    // applies the embedding after the norm.
    const config: UNetConfig = { ...micro, channelMults: [1], attentionResolutions: [], groups: 8, numClasses: 3 };
    const spread = async (scaleShiftNorm: boolean) => {
      const model = createUNet({ ...config, scaleShiftNorm }, 5);
      for (const v of model.variables.values())
        v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.1, 'float32', 2))));
      const x = tf.randomNormal([1, 8, 8, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const t = tf.tensor1d([100], 'int32');
      const outs = await Promise.all(
        [0, 1, 2, 3].map((label) => model.apply(x, t, tf.tensor1d([label], 'int32')).data()),
      );
      model.dispose();
      tf.dispose([x, t]);
      let max = 0;
      for (const o of outs) for (let i = 0; i < o.length; i++) max = Math.max(max, Math.abs(o[i]! - outs[0]![i]!));
      return max;
    };
    expect(await spread(false)).toBeLessThan(1e-4);
    expect(await spread(true)).toBeGreaterThan(1e-2);
  });

  it('rejects bad configs naming the field', () => {
    expect(() => createUNet({ ...micro, groups: 3 })).toThrow(/unet\.groups/);
    expect(() => createUNet({ ...micro, scaleShiftNorm: 'yes' as never })).toThrow(/unet\.scaleShiftNorm/);
    expect(() => createUNet({ ...micro, resolution: 6, channelMults: [1, 2, 2] })).toThrow(/unet\.resolution/);
    const m = createUNet(micro);
    const x = tf.zeros([1, 16, 16, 3]) as tf.Tensor4D;
    expect(() => m.apply(x, tf.tensor1d([1], 'int32'))).toThrow(/\[B, 8, 8, 3\]/);
    m.dispose();
    x.dispose();
  });
});

describe('timestepEmbedding', () => {
  it('is [sin(t·f), cos(t·f)] with DDPM frequencies', async () => {
    const e = await timestepEmbedding(tf.tensor1d([0, 10], 'int32'), 8).data();
    expect(e[0]).toBe(0); // sin(0)
    expect(e[4]).toBe(1); // cos(0)
    const f1 = Math.exp(-Math.log(10000) / 3);
    expect(e[8 + 1]).toBeCloseTo(Math.sin(10 * f1), 5);
    expect(e[8 + 4 + 3]).toBeCloseTo(Math.cos(10 * 1e-4), 5);
  });
});
