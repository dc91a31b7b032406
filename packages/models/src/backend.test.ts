import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';

describe('selectBackend', () => {
  it('falls back past the absent node bindings to wasm and reports why', async () => {
    const report = await selectBackend();
    // tfjs-node(-gpu) cannot be installed offline; where they are present this test still passes as long as
    // the report is consistent with what TF.js says.
    const chosen = report.tried.find((a) => a.ok);
    expect(chosen?.name).toBe(report.backend);
    expect(tf.getBackend()).toBe(report.tfBackend);
    for (const a of report.tried.slice(0, -1)) expect(a.ok).toBe(false);
    if (report.backend === 'wasm') {
      expect(report.tried.map((a) => a.name)).toEqual(['tensorflow-gpu', 'tensorflow', 'wasm']);
      expect(report.tried[0]!.reason).toBe('@tensorflow/tfjs-node-gpu is not installed');
      expect(report.hasConvFilterGrad).toBe(false);
    }
    const y = tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 1, 'same');
    expect((await y.data())[5]).toBe(9);
    y.dispose();
  });

  it('honours an explicit choice, and without fallback fails with the reason', async () => {
    const cpu = await selectBackend({ prefer: 'cpu' });
    expect(cpu.backend).toBe('cpu');
    expect(cpu.hasConvFilterGrad).toBe(true);
    expect(tf.getBackend()).toBe('cpu');
    await expect(selectBackend({ prefer: 'tensorflow-gpu', fallback: false })).rejects.toThrow(/tensorflow-gpu/);
    await expect(selectBackend({ prefer: 'metal' as never })).rejects.toThrow(/backend\.prefer/);
    const wasm = await selectBackend({ prefer: 'wasm' });
    expect(wasm.backend).toBe('wasm');
    expect(wasm.tried).toHaveLength(1);
  });
});
