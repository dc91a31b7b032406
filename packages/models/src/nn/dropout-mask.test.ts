import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.ts';
import { dropoutKeepMask } from './dropout-mask.ts';

/**
 * The first 48 keep bits and the kept count of the 1155-value masks below, as the trainer drew them before the
 * wasm kernel existed: the masks (and so resumed runs) must not change.
 */
const DRAWN: Record<number, { first48: string; kept: number }> = {
  0: { first48: '1'.repeat(48), kept: 1155 },
  0.1: { first48: '111101111111110011111110111111111111111111101111', kept: 1026 },
  0.5: { first48: '010101010110010000011110010001100101100110101100', kept: 549 },
};

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
      expect(
        cpuValues
          .slice(0, 48)
          .map((v) => (v > 0 ? '1' : '0'))
          .join(''),
      ).toBe(DRAWN[rate]!.first48);
      expect(cpuValues.filter((v) => v > 0)).toHaveLength(DRAWN[rate]!.kept);
      expect(new Set(cpuValues)).toEqual(new Set(rate === 0 ? [1] : [0, Math.fround(1 / (1 - rate))]));
      tf.dispose([onCpu, onWasm]);
    });
  }

  it('refuses a rate outside [0, 1)', () => {
    expect(() => dropoutKeepMask([4], 1, 1, 2)).toThrow(/rate must be in \[0, 1\)/);
  });
});
