import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { dropoutKeepMask } from './dropout-mask.ts';

/** The mask as the trainer drew it before the wasm kernel existed (float threshold): masks must not change. */
function reference(n: number, rate: number, seedA: number, seedB: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let h = ((i + seedA) ^ seedB) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x7feb352d);
    h ^= h >>> 15;
    h = Math.imul(h, 0x846ca68b);
    h ^= h >>> 16;
    out.push(h >>> 8 >= rate * 16777216 ? Math.fround(1 / (1 - rate)) : 0);
  }
  return out;
}

describe('dropoutKeepMask', () => {
  afterAll(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  for (const rate of [0, 0.1, 0.5]) {
    it(`rate ${rate}: the same mask on wasm (SIMD kernel) and cpu (JS), as the trainer always drew it`, async () => {
      const shape = [3, 5, 7, 11]; // 1155 values: not a multiple of 4, so the kernel's tail runs too
      const seeds: [number, number] = [2 ** 31 - 5, 123456789]; // i + seedA passes 2³¹: the 32-bit wrap must agree
      await selectBackend({ prefer: 'cpu', fallback: false });
      const onCpu = dropoutKeepMask(shape, rate, ...seeds);
      const cpuValues = Array.from(await onCpu.data());
      await selectBackend({ prefer: 'wasm', fallback: false });
      const onWasm = dropoutKeepMask(shape, rate, ...seeds);
      expect(onWasm.shape).toEqual(shape);
      expect(Array.from(await onWasm.data())).toEqual(cpuValues);
      expect(cpuValues).toEqual(reference(1155, rate, ...seeds));
      const kept = cpuValues.filter((v) => v > 0).length / cpuValues.length;
      expect(Math.abs(kept - (1 - rate))).toBeLessThan(0.05);
      tf.dispose([onCpu, onWasm]);
    });
  }

  it('refuses a rate outside [0, 1)', () => {
    expect(() => dropoutKeepMask([4], 1, 1, 2)).toThrow(/rate must be in \[0, 1\)/);
  });
});
