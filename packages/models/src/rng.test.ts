import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, philox4x32, type RngState } from './rng.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('philox4x32-10', () => {
  // Known-answer vectors from Random123's kat_vectors file.
  it.each([
    [
      [0, 0, 0, 0, 0, 0],
      [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8],
    ],
    [
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
    ],
    [
      [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0],
      [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
    ],
  ])('matches the reference output for %j', (input, expected) => {
    const out = new Uint32Array(4);
    const [c0, c1, c2, c3, k0, k1] = input as [number, number, number, number, number, number];
    philox4x32(c0, c1, c2, c3, k0, k1, out);
    expect(Array.from(out)).toEqual(expected);
  });
});

describe('Rng', () => {
  it('gives bit-identical tensors for the same seed and different ones for another seed', async () => {
    const a = await new Rng(42).normal([3, 5, 7]).data();
    const b = await new Rng(42).normal([3, 5, 7]).data();
    const c = await new Rng(43).normal([3, 5, 7]).data();
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('draws normals with mean ≈ 0 and variance ≈ 1, uniforms in [0, 1)', () => {
    const rng = new Rng(7);
    const n = 200_000;
    const z = rng.normalArray(n);
    let sum = 0;
    let sumSq = 0;
    for (const v of z) {
      sum += v;
      sumSq += v * v;
    }
    const mean = sum / n;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(sumSq / n - mean * mean - 1)).toBeLessThan(0.02);
    const u = rng.uniformArray(n);
    let uSum = 0;
    let outside = 0;
    for (const v of u) {
      if (!(v >= 0 && v < 1)) outside++;
      uSum += v;
    }
    expect(outside).toBe(0);
    expect(Math.abs(uSum / n - 0.5)).toBeLessThan(0.005);
  });

  it('draws int32 integers covering [0, max) evenly', async () => {
    const t = new Rng(3).uniformInt(60_000, 6);
    expect(t.dtype).toBe('int32');
    expect(t.shape).toEqual([60_000]);
    const counts = new Array<number>(6).fill(0);
    for (const v of await t.data()) counts[v]! += 1;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    t.dispose();
  });

  it('restores its state exactly, also in the middle of a block and through JSON', () => {
    const rng = new Rng(123);
    rng.normalArray(5); // consume 6 words: leaves 2 words buffered
    rng.nextUint32();
    const saved: RngState = JSON.parse(JSON.stringify(rng.getState()));
    expect(saved.buffer.length).toBe(1);
    const expected = [rng.nextUint32(), ...rng.normalArray(9), ...rng.uniformIntArray(4, 1000)];
    const restored = Rng.fromState(saved);
    const actual = [restored.nextUint32(), ...restored.normalArray(9), ...restored.uniformIntArray(4, 1000)];
    expect(actual).toEqual(expected);
    rng.setState(saved);
    expect(rng.nextUint32()).toBe(expected[0]);
  });

  it('continues the same word stream however the draws are split', () => {
    const whole = new Rng(9).fillUint32(new Uint32Array(11));
    const split = new Rng(9);
    const parts = [
      split.nextUint32(),
      ...split.fillUint32(new Uint32Array(6)),
      ...split.fillUint32(new Uint32Array(4)),
    ];
    expect(parts).toEqual(Array.from(whole));
  });

  it('forks independent streams that depend on the key, not the position', () => {
    const parent = new Rng(5);
    const f1 = parent.fork(1).normalArray(8);
    parent.normalArray(100);
    expect(Array.from(parent.fork(1).normalArray(8))).toEqual(Array.from(f1));
    expect(Array.from(parent.fork(2).normalArray(8))).not.toEqual(Array.from(f1));
    expect(Array.from(new Rng(5).normalArray(8))).not.toEqual(Array.from(f1));
  });

  it('rejects bad seeds and states with a message naming the field', () => {
    expect(() => new Rng(-1)).toThrow(/seed/);
    expect(() => new Rng(1.5)).toThrow(/seed/);
    const state = new Rng(1).getState();
    expect(() => new Rng(1).setState({ ...state, counter: [1, -1] })).toThrow(/counter/);
    expect(() => new Rng(1).setState({ ...state, buffer: [1, 2, 3, 4] })).toThrow(/buffer/);
    expect(() => new Rng(1).uniformInt(3, 0)).toThrow(/maxExclusive/);
  });

  it('builds permutations', () => {
    const p = new Rng(11).permutation(50);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(p)).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
